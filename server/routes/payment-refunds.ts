import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { PaymentAnswerSchema } from '../../contract/payments.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { ApiError } from '../errors.ts';
import { type Principal, principalOf, requires } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { PaymentProviderError } from '../payments/payment-provider.ts';
import type { PaymentStatus } from '../payments/payment-status.ts';
import { type PaymentRequestRow, paymentById, paymentDto, updatePayment } from '../payments/payment-store.ts';
import { idempotencyKeyOf } from './messages.ts';
import { paymentsOf, visiblePayment } from './payment-requests.ts';
import { Uuid } from './schemas.ts';

const REFUNDABLE: readonly PaymentStatus[] = ['paid', 'partially_refunded'];

const RefundBody = Type.Object(
  {
    amountMinor: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: 'What is left when left out' }),
    ),
    reason: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    ),
  },
  { additionalProperties: false },
);

/** How much of a paid request may still be refunded, or a clear refusal. */
function refundable(row: PaymentRequestRow, asked: number | undefined): number {
  if (!REFUNDABLE.includes(row.status) || row.payment_id === null)
    throw new ApiError(
      409,
      'PAYMENT_NOT_REFUNDABLE',
      `Only a paid request can be refunded; this one is ${row.status.replace('_', ' ')}.`,
      { status: row.status },
    );
  const paid = Number(row.paid_amount_minor ?? row.amount_minor);
  const left = paid - Number(row.refunded_minor);
  const amount = asked ?? left;
  if (amount > left || left <= 0)
    throw new ApiError(422, 'REFUND_TOO_LARGE', `At most ${left} (minor units) is left to refund.`, {
      leftMinor: left,
    });
  return amount;
}

/** Records a refund the provider made (once per refund id) and moves the request on. */
async function recordRefund(
  deps: Deps,
  p: Principal,
  row: PaymentRequestRow,
  refund: { id: string; amountMinor: number },
  reason: string | null,
  ip: string,
): Promise<PaymentRequestRow> {
  const at = deps.clock();
  return deps.db.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO payment_refunds (request_id, refund_id, amount_minor, reason, actor, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING refund_id`,
      [row.id, refund.id, refund.amountMinor, reason, p.actor, at],
    );
    let current = (await paymentById(tx, row.org_id, row.id)) ?? row;
    if (inserted.length === 0) return current;
    const [made] = await tx.query<{ total: string | number }>(
      'SELECT coalesce(sum(amount_minor), 0) AS total FROM payment_refunds WHERE request_id = $1',
      [row.id],
    );
    for (let attempt = 0; attempt < 5; attempt += 1) {
      // The provider's own report (charge.refunded, with its running total) may have landed first,
      // and may count refunds made elsewhere: the larger of the two totals is the truth so far.
      const refunded = Math.max(Number(current.refunded_minor), Number(made?.total ?? 0));
      const paid = Number(current.paid_amount_minor ?? current.amount_minor);
      const next: PaymentStatus = refunded >= paid ? 'refunded' : 'partially_refunded';
      const updated = await updatePayment(tx, current, {
        next,
        fields: { refunded_minor: refunded },
        detail: { by: p.actor, refundId: refund.id, amountMinor: refund.amountMinor },
        at,
      });
      if (updated !== null) {
        await appendAudit(tx, {
          orgId: p.orgId,
          actor: p.actor,
          action: 'payment.refunded',
          target: { type: 'payment_request', id: row.id },
          at,
          ip,
          detail: { refundId: refund.id, amountMinor: refund.amountMinor, currency: row.currency, reason },
        });
        return updated;
      }
      current = (await paymentById(tx, row.org_id, row.id)) ?? current;
    }
    throw new Error(`payment request ${row.id} kept changing while its refund was recorded`);
  });
}

/** Refunds a paid request in part or whole, at the provider, once per Idempotency-Key. */
export const paymentRefundRoute: RouteModule = (app, deps) => {
  app.post(
    '/v1/payment-requests/:id/refund',
    {
      config: requires('payments.refund'),
      schema: {
        summary: 'Refund a paid payment request',
        description:
          'Refunds at the provider (all that is left unless amountMinor says less) and records who did it and why. Send an Idempotency-Key: a retry answers with the same refund.',
        tags: ['payments'],
        params: Type.Object({ id: Uuid }),
        body: RefundBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 200: PaymentAnswerSchema, ...errorResponses },
        'x-error-codes': [
          'PAYMENT_NOT_FOUND',
          'PAYMENT_NOT_REFUNDABLE',
          'REFUND_TOO_LARGE',
          'REFUND_FAILED',
          'PAYMENTS_NOT_CONFIGURED',
          'IDEMPOTENCY_KEY_REQUIRED',
        ],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      const payments = paymentsOf(deps);
      const row = await visiblePayment(deps, p, request.params.id);
      const amount = refundable(row, request.body.amountMinor);
      let refund: { id: string; amountMinor: number };
      try {
        refund = await payments.provider.refund(row.payment_id as string, amount, `refund:${row.id}:${key}`);
      } catch (error) {
        if (!(error instanceof PaymentProviderError)) throw error;
        throw new ApiError(
          error.retryable ? 503 : 422,
          'REFUND_FAILED',
          `The payment provider did not refund it: ${error.message}`,
          { providerCode: error.code, retryable: error.retryable },
        );
      }
      const updated = await recordRefund(deps, p, row, refund, request.body.reason ?? null, request.ip);
      return { payment: paymentDto(updated) };
    },
  );
};
