import { type Static, Type } from 'typebox';
import { Nullable } from './nullable.ts';

export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'received',
  'cancelled',
] as const;
export const MessageStatusSchema = Type.Union(
  [
    Type.Literal('queued'),
    Type.Literal('sending'),
    Type.Literal('sent'),
    Type.Literal('delivered'),
    Type.Literal('undelivered'),
    Type.Literal('failed'),
    Type.Literal('received'),
    Type.Literal('cancelled'),
  ],
  {
    description:
      'Where the text is: queued → sending → sent → delivered (or undelivered/failed); received when inbound; cancelled when a scheduled text was called off before it left',
  },
);
export type MessageStatus = Static<typeof MessageStatusSchema>;

export const MessagePurposeSchema = Type.Union(
  [
    Type.Literal('conversation'),
    Type.Literal('opt_out_confirmation'),
    Type.Literal('opt_in_confirmation'),
    Type.Literal('help_reply'),
    Type.Literal('card_warning'),
    Type.Literal('opt_in_request'),
  ],
  { description: "Why the text was sent: a rep's conversation, or an automatic compliance reply" },
);

export const EncodingSchema = Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')], {
  description: 'The SMS alphabet the text needs; UCS-2 fits fewer characters per segment',
});

/** Produced by server/stores/redaction.ts from the content scanner's card, SSN and bank findings. */
export const RedactionSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('card'), Type.Literal('ssn'), Type.Literal('bank')]),
    start: Type.Integer({ description: 'Offset of the placeholder in `body`' }),
    end: Type.Integer({ description: 'Offset just past the placeholder' }),
    label: Type.String({ description: 'The placeholder text, e.g. "[Visa •••• 4242]"' }),
  },
  { description: 'One span of a stored body replaced because the customer texted card, SSN or bank numbers' },
);
export type Redaction = Static<typeof RedactionSchema>;

export const MessageSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    conversationId: Type.String({ format: 'uuid' }),
    direction: Type.Union([Type.Literal('outbound'), Type.Literal('inbound')]),
    from: Type.String({ description: 'E.164, masked without pii.view' }),
    to: Type.String({ description: 'E.164, masked without pii.view' }),
    body: Type.String(),
    purpose: MessagePurposeSchema,
    status: MessageStatusSchema,
    segments: Type.Integer(),
    encoding: EncodingSchema,
    errorCode: Nullable(Type.String()),
    errorMessage: Nullable(Type.String()),
    sentBy: Nullable(Type.String({ description: "The sending key's name or user's email" })),
    scheduledFor: Nullable(
      Type.String({ description: 'A queued text held for later (scheduled, or quiet hours): when it goes' }),
    ),
    redactions: Type.Array(RedactionSchema),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { description: 'A text message as the API shows it' },
);
export type Message = Static<typeof MessageSchema>;

export const MessageEnvelopeSchema = Type.Object(
  { message: MessageSchema },
  { description: 'One message; also the data of every message event on /v1/events' },
);

export const QuietHoursExceptionSchema = Type.Object(
  {
    policy: Type.Literal('customer_reply_window'),
    lastInboundAt: Type.String({ format: 'date-time' }),
    windowMinutes: Type.Integer(),
  },
  { description: "Sent in quiet hours because the customer wrote in within the org's reply window" },
);

export const SendAcceptedSchema = Type.Object(
  {
    message: MessageSchema,
    scheduledFor: Type.Optional(
      Type.String({ format: 'date-time', description: 'When a scheduled text goes' }),
    ),
    complianceException: Type.Optional(QuietHoursExceptionSchema),
  },
  { description: "The text is queued (or, for a repeated Idempotency-Key, the first request's message)" },
);

export const StatusEventSchema = Type.Object({
  status: Type.String(),
  errorCode: Nullable(Type.String()),
  detail: Nullable(Type.String()),
  at: Type.String({ format: 'date-time' }),
});

export const MessageWithHistorySchema = Type.Object(
  { message: MessageSchema, statusHistory: Type.Array(StatusEventSchema) },
  { description: 'A message and every status the provider reported for it, oldest first' },
);

export const MessagePageSchema = Type.Object(
  {
    messages: Type.Array(MessageSchema, { description: 'Newest first' }),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next (older) page' })),
  },
  { description: "One page of a conversation's messages" },
);
export type MessagePage = Static<typeof MessagePageSchema>;
export type MessagePurpose = Static<typeof MessagePurposeSchema>;
