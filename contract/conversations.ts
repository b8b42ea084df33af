import { type Static, Type } from 'typebox';
import { Nullable } from './nullable.ts';

export const ConversationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    senderNumber: Type.String({ description: "The org's number, E.164" }),
    contactPhone: Type.String({ description: "The customer's number; masked without pii.view" }),
    contact: Nullable(
      Type.Object(
        { crm: Type.String(), objectType: Nullable(Type.String()), id: Nullable(Type.String()) },
        { description: 'The CRM record the thread is linked to' },
      ),
    ),
    lastMessageAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'A thread between a sender number and a customer phone' },
);
export type Conversation = Static<typeof ConversationSchema>;

export const ConversationListSchema = Type.Object(
  {
    conversations: Type.Array(ConversationSchema, { description: 'Most recent first' }),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as "cursor" for the next page; null on the last page' }),
    ),
  },
  { description: 'One page of the conversations matching the filter' },
);

export const RevealedPhoneSchema = Type.Object(
  { conversationId: Type.String({ format: 'uuid' }), contactPhone: Type.String() },
  { description: "One conversation's number unmasked; the reveal is audited" },
);
