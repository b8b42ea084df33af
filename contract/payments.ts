import { Type } from 'typebox';
import { MessageSchema } from './messages.ts';
import { Nullable } from './nullable.ts';
import { PreflightSchema } from './preflight.ts';

export const PAYMENT_STATUS_VALUES = [
  'sent',
  'opened',
  'checkout_started',
  'processing',
  'paid',
  'failed',
  'expired',
  'canceled',
  'partially_refunded',
  'refunded',
  'disputed',
] as const;

export const PaymentStatusSchema = Type.Union(
  [
    Type.Literal('sent'),
    Type.Literal('opened'),
    Type.Literal('checkout_started'),
    Type.Literal('processing'),
    Type.Literal('paid'),
    Type.Literal('failed'),
    Type.Literal('expired'),
    Type.Literal('canceled'),
    Type.Literal('partially_refunded'),
    Type.Literal('refunded'),
    Type.Literal('disputed'),
  ],
  {
    description:
      'Moves forward only: sent → opened → checkout_started → processing → paid | failed | expired | canceled, then partially_refunded | refunded | disputed',
  },
);

/** A payment request as reps see it: never a card number, never the link's token. */
export const PaymentSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: PaymentStatusSchema,
    amountMinor: Type.Integer({ description: 'In the currency’s minor unit (cents)' }),
    currency: Type.String({ description: 'ISO 4217, lower case' }),
    amountText: Type.String({ description: 'As the customer reads it, e.g. $125.50' }),
    description: Type.String(),
    reference: Nullable(Type.String()),
    conversationId: Nullable(Type.String({ format: 'uuid' })),
    messageId: Nullable(Type.String({ format: 'uuid', description: 'The text that carried the link' })),
    expiresAt: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    createdBy: Type.Object({
      userId: Nullable(Type.String({ format: 'uuid' })),
      name: Nullable(Type.String()),
    }),
    paid: Nullable(
      Type.Object({
        amountMinor: Type.Integer(),
        currency: Type.String(),
        card: Nullable(
          Type.Object(
            { brand: Type.String(), last4: Type.String({ pattern: '^[0-9]{4}$' }) },
            { description: 'At most the brand and last 4' },
          ),
        ),
      }),
    ),
    refundedMinor: Type.Integer(),
    reviewReason: Nullable(
      Type.String({
        description: 'Why a person must look (the paid amount differs, paid after the link closed)',
      }),
    ),
    remindedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'A payment request' },
);

export const PaymentCreatedSchema = Type.Object({ payment: PaymentSchema, message: MessageSchema });

export const PaymentWithHistorySchema = Type.Object({
  payment: PaymentSchema,
  history: Type.Array(Type.Object({ status: PaymentStatusSchema, at: Type.String({ format: 'date-time' }) })),
});

export const PaymentListSchema = Type.Object({
  payments: Type.Array(PaymentSchema),
  nextCursor: Type.Optional(
    Nullable(Type.String({ description: 'Pass as cursor for the next (older) page; null on the last' })),
  ),
});

/** A guard's hold: what it stops, why, and whether a manager released it. */
export const PaymentHoldSchema = Type.Object({
  id: Type.String(),
  reason: Type.Union([
    Type.Literal('links_per_hour'),
    Type.Literal('repeat_number'),
    Type.Literal('unknown_number'),
    Type.Literal('unusual_amount'),
    Type.Literal('card_testing'),
  ]),
  description: Type.String(),
  rep: Nullable(
    Type.Object({
      userId: Nullable(Type.String()),
      keyId: Nullable(Type.String()),
      name: Nullable(Type.String()),
    }),
  ),
  phone: Nullable(Type.String({ description: 'Masked without pii.view' })),
  requestId: Nullable(Type.String()),
  amountMinor: Nullable(Type.Integer()),
  currency: Nullable(Type.String()),
  createdAt: Type.String(),
  releasedAt: Nullable(Type.String()),
  releasedBy: Nullable(Type.String()),
  releaseNote: Nullable(Type.String()),
});
export const PaymentHoldListSchema = Type.Object({
  holds: Type.Array(PaymentHoldSchema),
  nextCursor: Nullable(Type.String()),
});
export const PaymentHoldAnswerSchema = Type.Object({ hold: PaymentHoldSchema });

export const PaymentAnswerSchema = Type.Object({ payment: PaymentSchema });

export const PaymentPreviewSchema = Type.Object({
  text: Type.String({ description: 'The text as the request would write it (the link’s token differs)' }),
  check: PreflightSchema,
  settings: Type.Object({
    currencies: Type.Array(Type.String()),
    linkDays: Type.Integer(),
    maxLinkDays: Type.Integer(),
    maxAmountMinor: Type.Integer(),
  }),
});

/** The data of `payment.updated` on GET /v1/events. */
export const PaymentEventDataSchema = Type.Object({ payment: PaymentSchema });

/** What a rep may ask for: the org's payment-link rules as the request form needs them. */
export const PaymentTermsSchema = Type.Object(
  {
    businessName: Type.String({ description: 'How the text names the business' }),
    currencies: Type.Array(Type.String(), { description: 'ISO 4217, lower case; the first is the default' }),
    linkDays: Type.Integer({ description: 'How long a link takes payment unless the rep says otherwise' }),
    maxLinkDays: Type.Integer(),
    maxAmountMinor: Type.Integer({ description: 'The largest amount one request may ask for' }),
  },
  { description: 'The org’s payment-link terms' },
);
