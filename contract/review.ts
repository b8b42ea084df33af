import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

export const ConsentReviewSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    phone: Type.String({ description: 'E.164, masked without pii.view' }),
    messageId: Type.String({ format: 'uuid' }),
    text: Type.String({ description: 'The stored (redacted) text that was flagged' }),
    reason: Type.String(),
    status: Type.Union([Type.Literal('open'), Type.Literal('opted_out'), Type.Literal('kept')]),
    decidedBy: Nullable(Type.String()),
    note: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    decidedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'A flagged inbound text: texting that number is paused until someone decides' },
);

export const ReviewListSchema = Type.Object(
  { reviews: Type.Array(ConsentReviewSchema) },
  { description: 'Flagged inbound texts, newest first' },
);

export const ReviewDecidedSchema = Type.Object(
  { review: ConsentReviewSchema },
  { description: 'The review as decided' },
);
