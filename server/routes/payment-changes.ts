import { type Static, Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import {
  PaymentAnswerSchema,
  PaymentCreatedSchema,
  PaymentListSchema,
  PaymentStatusSchema,
  PaymentWithHistorySchema,
} from '../../contract/payments.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { ApiError } from '../errors.ts';
import { messageFor, type Principal, principalOf, requires, visibleConversation } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { listPayments } from '../payments/payment-queries.ts';
import { OPEN_STATUSES } from '../payments/payment-status.ts';
import {
  type PaymentRequestRow,
  paymentDto,
  paymentHistory,
  paymentsOfConversation,
  updatePayment,
} from '../payments/payment-store.ts';
import { toDto } from '../stores/messages.ts';
import { phoneNumber } from '../stores/phone-columns.ts';
import { SEND_ERROR_CODES, sendText } from './messages.ts';
import { paymentRefundRoute } from './payment-refunds.ts';
import { paymentsOf, textFor, visiblePayment } from './payment-requests.ts';
import { Uuid } from './schemas.ts';

const tags = ['payments'];

const paymentReadRoutes: RouteModule = (app, deps) => {
  app.get(
    '/v1/payment-requests',
    {
      config: requires('conversations.view'),
      schema: {
        summary: 'List payment requests',
        description:
          'With conversationId: every request of that conversation, oldest first. Otherwise the org’s requests newest first, by status and by the rep who asked (user id), one page at a time; a role confined to its own conversations sees its own requests and those of its conversations.',
        tags,
        querystring: Type.Object(
          {
            conversationId: Type.Optional(Uuid),
            status: Type.Optional(PaymentStatusSchema),
            rep: Type.Optional(Uuid),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PaymentListSchema, ...errorResponses },
        'x-error-codes': ['CONVERSATION_NOT_FOUND', 'INVALID_CURSOR'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { conversationId, status, rep, cursor, limit } = request.query;
      if (conversationId === undefined) {
        const page = await listPayments(deps.db, p, {
          status: status ?? null,
          rep: rep ?? null,
          cursor: cursor ?? null,
          limit: limit ?? 50,
        });
        return { payments: page.rows.map(paymentDto), nextCursor: page.nextCursor };
      }
      if (!(await visibleConversation(deps.db, p, conversationId)))
        throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
      const rows = await paymentsOfConversation(deps.db, p.orgId, conversationId);
      return {
        payments: rows.filter((r) => status === undefined || r.status === status).map(paymentDto),
        nextCursor: null,
      };
    },
  );

  app.get(
    '/v1/payment-requests/:id',
    {
      config: requires('conversations.view'),
      schema: {
        summary: 'Read a payment request and its status history',
        tags,
        params: Type.Object({ id: Uuid }),
        response: { 200: PaymentWithHistorySchema, ...errorResponses },
        'x-error-codes': ['PAYMENT_NOT_FOUND'],
      },
    },
    async (request) => {
      const row = await visiblePayment(deps, principalOf(request), request.params.id);
      const history = await paymentHistory(deps.db, row.id);
      return {
        payment: paymentDto(row),
        history: history as Static<typeof PaymentWithHistorySchema>['history'],
      };
    },
  );
};

/** Whether the principal may change this request: its sender, or a role that manages texts. */
function mayChange(p: Principal, row: PaymentRequestRow): boolean {
  const own =
    (row.created_by_user_id !== null && row.created_by_user_id === p.userId) ||
    (row.created_by_user_id === null && row.created_by_key_id === p.keyId);
  return own || p.permissions.includes('messages.manage');
}

async function changeablePayment(deps: Deps, p: Principal, id: string): Promise<PaymentRequestRow> {
  const row = await visiblePayment(deps, p, id);
  if (!mayChange(p, row))
    throw new ApiError(
      403,
      'NOT_YOUR_PAYMENT_REQUEST',
      'Only the rep who asked for this payment, or a manager, may change it.',
    );
  if (!OPEN_STATUSES.includes(row.status))
    throw new ApiError(
      409,
      'PAYMENT_NOT_OPEN',
      `This payment request is ${row.status.replace('_', ' ')}; it can no longer be changed.`,
      {
        status: row.status,
      },
    );
  return row;
}

/** Cancels an open request: its link stops taking payment at once. */
const paymentCancelRoute: RouteModule = (app, deps) => {
  const { db } = deps;
  const params = Type.Object({ id: Uuid });
  app.post(
    '/v1/payment-requests/:id/cancel',
    {
      config: requires('payments.create'),
      schema: {
        summary: 'Cancel a payment request',
        description: 'Its link stops taking payment at once (the provider’s open checkout is expired too).',
        tags,
        params,
        response: { 200: PaymentAnswerSchema, ...errorResponses },
        'x-error-codes': [
          'PAYMENT_NOT_FOUND',
          'NOT_YOUR_PAYMENT_REQUEST',
          'PAYMENT_NOT_OPEN',
          'PAYMENTS_NOT_CONFIGURED',
        ],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const payments = paymentsOf(deps);
      const row = await changeablePayment(deps, p, request.params.id);
      if (row.checkout_id !== null) {
        const checkout = await payments.provider.expireCheckout(row.checkout_id);
        if (checkout.status === 'complete')
          throw new ApiError(
            409,
            'PAYMENT_NOT_OPEN',
            'The customer has just paid; the payment is being recorded.',
            { status: 'processing' },
          );
      }
      const now = deps.clock();
      const updated = await db.transaction(async (tx) => {
        const done = await updatePayment(tx, row, {
          next: 'canceled',
          fields: { checkout_url: null },
          detail: { by: p.actor },
          at: now,
        });
        if (done === null)
          throw new ApiError(409, 'PAYMENT_NOT_OPEN', 'The payment request changed meanwhile; reload it.');
        await appendAudit(tx, {
          orgId: p.orgId,
          actor: p.actor,
          action: 'payment.canceled',
          target: { type: 'payment_request', id: row.id },
          at: now,
          ip: request.ip,
        });
        return done;
      });
      return { payment: paymentDto(updated) };
    },
  );
};

/** One reminder per request, through the normal send path. */
const paymentRemindRoute: RouteModule = (app, deps) => {
  const { db } = deps;
  const params = Type.Object({ id: Uuid });
  app.post(
    '/v1/payment-requests/:id/remind',
    {
      config: requires('payments.create'),
      schema: {
        summary: 'Send one reminder of an unpaid payment request',
        description: 'One reminder per request, through the normal send path (the same rules as any text).',
        tags,
        params,
        response: { 201: PaymentCreatedSchema, ...errorResponses },
        'x-error-codes': [
          ...SEND_ERROR_CODES,
          'PAYMENT_NOT_FOUND',
          'NOT_YOUR_PAYMENT_REQUEST',
          'PAYMENT_NOT_OPEN',
          'REMINDER_ALREADY_SENT',
          'PAYMENTS_NOT_CONFIGURED',
        ],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      paymentsOf(deps);
      const row = await changeablePayment(deps, p, request.params.id);
      if (row.reminded_at !== null)
        throw new ApiError(
          409,
          'REMINDER_ALREADY_SENT',
          `A reminder was already sent at ${row.reminded_at.toISOString()}.`,
        );
      const [original] = await db.query<{ from_e164: string; to_e164: string }>(
        'SELECT from_e164, to_e164 FROM messages WHERE id = $1',
        [row.message_id],
      );
      if (original === undefined)
        throw new ApiError(409, 'PAYMENT_NOT_OPEN', 'The request’s text was not found.');
      const text = await textFor(deps, row, true);
      const outcome = await sendText(
        deps,
        p,
        { from: original.from_e164, to: phoneNumber(db, original.to_e164), body: text },
        `payment-reminder:${row.id}`,
        request.log,
      );
      const updated = await db.transaction((tx) =>
        updatePayment(tx, row, { fields: { reminded_at: deps.clock() }, at: deps.clock() }),
      );
      return reply
        .code(201)
        .send({ payment: paymentDto(updated ?? row), message: messageFor(p, toDto(outcome.row)) });
    },
  );
};

/** Reading, cancelling, reminding and refunding of payment requests (asking for one is payment-requests.ts). */
export const paymentChangeRoutes: RouteModule = (app, deps) => {
  paymentReadRoutes(app, deps);
  paymentCancelRoute(app, deps);
  paymentRemindRoute(app, deps);
  paymentRefundRoute(app, deps);
};
