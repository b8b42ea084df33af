import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** A user a conversation is routed to. */
export const AssigneeSchema = Type.Object(
  { userId: Type.String({ format: 'uuid' }), name: Nullable(Type.String()) },
  { description: 'The rep the conversation is routed to' },
);

export const INBOX_FILTERS = ['mine', 'unassigned', 'all'] as const;

/** One row of the inbox. */
export const InboxRowSchema = Type.Object(
  {
    conversationId: Type.String({ format: 'uuid' }),
    senderNumber: Type.String({ description: "The org's number, E.164" }),
    contactPhone: Type.String({ description: "The customer's number; masked without pii.view" }),
    contact: Nullable(
      Type.Object({
        name: Nullable(Type.String({ description: 'As the CRM names them, when known' })),
        crm: Nullable(Type.String()),
        objectType: Nullable(Type.String()),
        id: Nullable(Type.String()),
        recordUrl: Nullable(
          Type.String({
            description:
              'The record’s page in its CRM (the panel docks there), when the org’s connection says where',
          }),
        ),
      }),
    ),
    findInCrm: Nullable(
      Type.Object(
        { crm: Type.String(), url: Type.String() },
        { description: 'No CRM record is known for this number: where to find or create one' },
      ),
    ),
    lastMessage: Nullable(
      Type.Object({
        direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
        body: Type.String({ description: 'As stored: card and similar numbers already removed' }),
        at: Type.String({ format: 'date-time' }),
      }),
    ),
    consent: Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out'), Type.Literal('unknown')]),
    assignee: Nullable(AssigneeSchema),
    unread: Type.Boolean({ description: 'For the caller: a reply it has not been shown, or marked unread' }),
  },
  { description: 'A conversation as the inbox lists it' },
);

export const InboxPageSchema = Type.Object(
  {
    rows: Type.Array(InboxRowSchema, { description: 'Unread first (mine), then newest activity first' }),
    unreadCount: Type.Integer({ description: 'How many conversations the caller has unread (the badge)' }),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as "cursor" for the next page; null on the last' }),
    ),
  },
  { description: 'One page of the inbox' },
);

/** The data of `inbox.updated` on GET /v1/events: a conversation's routing and read state now. */
export const InboxEventDataSchema = Type.Object(
  {
    conversationId: Type.String({ format: 'uuid' }),
    assignee: Nullable(AssigneeSchema),
    unreadFor: Type.Array(Type.String({ format: 'uuid' }), {
      description: 'The users who have it unread (compare with the userId of GET /v1/me)',
    }),
  },
  { description: 'An inbox change' },
);

export const InboxStateSchema = Type.Object(
  {
    conversationId: Type.String({ format: 'uuid' }),
    assignee: Nullable(AssigneeSchema),
    unread: Type.Boolean(),
  },
  { description: 'A conversation’s routing and the caller’s read state after a change' },
);

/** The data of `conversation.typing` on GET /v1/events: a rep composing in a conversation, or stopped. */
export const TypingEventDataSchema = Type.Object(
  {
    conversationId: Type.String({ format: 'uuid' }),
    user: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }),
    state: Type.Union([Type.Literal('composing'), Type.Literal('stopped')]),
    until: Type.String({ description: 'Composing holds until then unless repeated' }),
  },
  { description: 'Someone is typing' },
);

export const TypingAnswerSchema = Type.Object({
  conversationId: Type.String({ format: 'uuid' }),
  state: Type.Union([Type.Literal('composing'), Type.Literal('stopped')]),
  until: Type.String(),
});
