import { type Static, Type } from 'typebox';
import { Nullable } from './nullable.ts';

export const ConsentStatusSchema = Type.Union(
  [Type.Literal('opted_in'), Type.Literal('opted_out'), Type.Literal('unknown')],
  { description: "The customer's standing, from the latest event of the consent ledger" },
);
export type ConsentStatus = Static<typeof ConsentStatusSchema>;

export const PendingOptInSchema = Type.Object(
  { source: Nullable(Type.String()), requestedAt: Type.String({ format: 'date-time' }) },
  { description: "Double opt-in asked and waiting for the customer's YES" },
);

/** One entry of the append-only consent ledger. */
export const ConsentEventSchema = Type.Object(
  {
    id: Type.Union([Type.Integer(), Type.String()]),
    kind: Type.Union([Type.Literal('opt_in'), Type.Literal('opt_out')]),
    source: Type.String(),
    scope: Type.String(),
    evidence: Type.String({ description: 'Phone numbers masked without pii.view' }),
    messageId: Nullable(Type.String()),
    actor: Type.String({
      description: 'The audit id of who recorded it: user:<id>, api-key:<id>, customer…',
    }),
    actorName: Type.String({
      description: "Who recorded it, for people: the user's name or email, the API key's label, the customer",
    }),
    classification: Nullable(
      Type.String({ description: 'The classifier rule or reviewer decision that read the evidence' }),
    ),
    occurredAt: Type.String({ format: 'date-time' }),
  },
  { description: 'One entry of the append-only consent ledger' },
);

export const ConsentStandingSchema = Type.Object(
  {
    phone: Type.String({ description: 'E.164, masked without pii.view' }),
    status: ConsentStatusSchema,
    since: Nullable(Type.String({ format: 'date-time' })),
    source: Nullable(Type.String()),
    pendingOptIn: Nullable(PendingOptInSchema),
    events: Type.Array(ConsentEventSchema, { description: 'Newest first, at most 200' }),
  },
  { description: "A customer's consent and its ledger" },
);

export const ConsentRecordedSchema = Type.Object(
  {
    phone: Type.String({ description: 'E.164, masked without pii.view' }),
    status: ConsentStatusSchema,
    since: Nullable(Type.String({ format: 'date-time' })),
    pendingConfirmation: Type.Optional(
      Type.Boolean({ description: 'Double opt-in: the customer was asked to reply YES (202)' }),
    ),
  },
  { description: 'Consent recorded (201), or double opt-in asked (202)' },
);
export type ConsentRecordedBody = Static<typeof ConsentRecordedSchema>;
