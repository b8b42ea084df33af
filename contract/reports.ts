import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** One page of the opt-in / opt-out report. */
export const ConsentReportSchema = Type.Object(
  {
    rows: Type.Array(
      Type.Object({
        id: Type.Integer({ description: 'The ledger entry' }),
        occurredAt: Type.String({ format: 'date-time' }),
        phone: Type.String({ description: 'Masked without pii.view' }),
        kind: Type.Union([Type.Literal('opt_in'), Type.Literal('opt_out')]),
        source: Type.String(),
        evidence: Type.String({ description: 'Numbers in it masked without pii.view' }),
        actor: Type.String(),
        actorName: Type.String(),
      }),
      { description: 'Oldest first' },
    ),
    nextAfter: Nullable(Type.Integer({ description: 'Pass as "after" for the next page; null on the last' })),
  },
  { description: 'Consent changes of a period' },
);

export const VolumeReportSchema = Type.Object(
  {
    by: Type.Union([Type.Literal('rep'), Type.Literal('number')]),
    rows: Type.Array(
      Type.Object({
        key: Type.String({ description: 'A user id ("integration" for unbound API keys), or a number' }),
        name: Nullable(Type.String()),
        outbound: Type.Integer(),
        inbound: Type.Integer(),
        delivered: Type.Integer(),
        failed: Type.Integer(),
        deliveryRate: Nullable(Type.Number({ description: 'delivered ÷ (delivered + failed)' })),
      }),
    ),
  },
  { description: 'Message volume and delivery of a period' },
);

export const IncidentReportSchema = Type.Object(
  {
    days: Type.Array(
      Type.Object({
        day: Type.String({ description: 'YYYY-MM-DD, UTC' }),
        redactions: Type.Integer(),
        optOuts: Type.Integer(),
        unclearReplies: Type.Integer(),
        overrides: Type.Integer(),
      }),
      { description: 'Days with at least one incident, oldest first' },
    ),
  },
  { description: 'Compliance incidents per day' },
);

/** Payment requests of a period per rep, status and currency (GET /v1/reports/payments). */
export const PaymentReportSchema = Type.Object({
  rows: Type.Array(
    Type.Object({
      repUserId: Type.Union([Type.String(), Type.Null()], {
        description: 'Null: API keys not bound to a person',
      }),
      repName: Type.String(),
      status: Type.String(),
      currency: Type.String(),
      requests: Type.Integer(),
      amountMinor: Type.Integer({ description: 'What was asked for' }),
      paidMinor: Type.Integer(),
      refundedMinor: Type.Integer(),
    }),
  ),
});

/** Each UTC day of a period (GET /v1/reports/daily): the charts of the admin console read it. */
export const DailyActivitySchema = Type.Object(
  {
    days: Type.Array(
      Type.Object({
        day: Type.String({ description: 'YYYY-MM-DD, UTC' }),
        outbound: Type.Integer(),
        inbound: Type.Integer(),
        delivered: Type.Integer({ description: 'Texts written that day that were delivered' }),
        failed: Type.Integer({ description: 'Texts written that day that failed or were undelivered' }),
        deliveryRate: Nullable(Type.Number({ description: 'delivered ÷ (delivered + failed)' })),
        optIns: Type.Integer(),
        optOuts: Type.Integer(),
      }),
      { description: 'Every day of the period, oldest first, quiet days as zeros' },
    ),
  },
  { description: 'Texts, delivery and consent changes per day' },
);
