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

/** What put an item in the review queue. */
export const ReviewKindSchema = Type.Union(
  [
    Type.Literal('refused_send'),
    Type.Literal('override'),
    Type.Literal('redaction'),
    Type.Literal('unclear_reply'),
    Type.Literal('escalation'),
    Type.Literal('sample'),
  ],
  {
    description:
      'refused_send: the rules refused a send; override: an opt-out overridden or a quiet-hours exception; redaction: a card or similar number removed from a customer text; unclear_reply: a reply that may be an opt-out (texting the number is paused); escalation: a thread moved off SMS; sample: a conversation picked at random',
  },
);
export const ReviewItemDecisionSchema = Type.Union(
  [Type.Literal('ok'), Type.Literal('coach'), Type.Literal('opt_out'), Type.Literal('escalate')],
  {
    description:
      'ok: nothing wrong; coach: a note for the rep (required); opt_out: record the customer’s opt-out; escalate: keep it open as escalated, for a second decision (note required)',
  },
);

/** One item of the review queue (issue #18, item 4). */
export const ReviewItemSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: ReviewKindSchema,
    reason: Type.String({ description: 'What happened: a refusal code, a policy, the follow-up logged' }),
    conversationId: Nullable(Type.String({ format: 'uuid' })),
    messageId: Nullable(Type.String({ format: 'uuid' })),
    rep: Nullable(Type.Object({ userId: Type.String({ format: 'uuid' }), name: Nullable(Type.String()) })),
    actor: Nullable(Type.String({ description: 'Who acted, as the audit log names them' })),
    phone: Nullable(Type.String({ description: 'The customer’s number, E.164, masked without pii.view' })),
    occurrences: Type.Integer({
      description: 'How often it happened while the item was open (refusals repeat)',
    }),
    createdAt: Type.String({ format: 'date-time' }),
    lastSeenAt: Type.String({ format: 'date-time' }),
    status: Type.Union([Type.Literal('open'), Type.Literal('escalated'), Type.Literal('closed')]),
    decision: Nullable(ReviewItemDecisionSchema),
    note: Nullable(Type.String()),
    decidedBy: Nullable(Type.String()),
    decidedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'Something the compliance layer flagged, or a sampled conversation, for a reviewer' },
);

export const ReviewItemListSchema = Type.Object({
  items: Type.Array(ReviewItemSchema),
  nextCursor: Nullable(Type.String()),
});
export const ReviewItemAnswerSchema = Type.Object({ item: ReviewItemSchema });
