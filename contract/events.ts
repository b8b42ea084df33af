import { Type } from 'typebox';
import { MessageSchema } from './messages.ts';

/** The event names of GET /v1/events whose data is a message envelope. */
export const MESSAGE_EVENT_TYPES = ['message.created', 'message.updated'] as const;

/**
 * The data of `message.created` (an inbound text arrived) and `message.updated` (a status
 * changed, or a scheduled text was cancelled or moved): the message as GET /v1/messages/{id} shows it.
 */
export const MessageEventDataSchema = Type.Object(
  {
    message: MessageSchema,
    participants: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), {
        description:
          'On an inbound message.created only: the users who have sent in the conversation (the userId of GET /v1/me), so a client knows whose conversation it is without listing them',
      }),
    ),
  },
  { description: 'A message event' },
);

/**
 * The data of the stream's closing events: `revoked` (the credential stopped working) and
 * `resync` (too far behind: reload and reconnect).
 */
export const StreamEndDataSchema = Type.Object(
  { reason: Type.String() },
  { description: 'Why the relay ended the stream' },
);

export const EVENT_STREAM_DESCRIPTION = `A server-sent event stream (text/event-stream). Events ${MESSAGE_EVENT_TYPES.join(
  ' and ',
)} carry \`{ "message": Message }\` as JSON data (the Message of GET /v1/messages/{id}), an inbound message.created also \`"participants"\`: the ids of the users who have sent in its conversation; \`payment.updated\` carries \`{ "payment": Payment }\` (GET /v1/payment-requests/{id}) whenever a payment request in a conversation moves forward; \`inbox.updated\` carries \`{ "conversationId", "assignee", "unreadFor" }\` when a conversation is routed or read (unreadFor: the users who have it unread); \`conversation.typing\` carries \`{ "conversationId", "user": { "id", "name" }, "state": "composing" | "stopped", "until" }\` while a rep composes in it; \`revoked\` and \`resync\` carry \`{ "reason" }\` and end the stream. Resume with Last-Event-ID (header, or the lastEventId query): an id is an opaque position of up to 8 KB, and a resumed stream gets the events it missed. Events come as their transactions commit, so two events' ids need not sort in the order they came.`;
