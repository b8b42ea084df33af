import type { FastifyBaseLogger } from 'fastify';
import { type Static, Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { PaymentCreatedSchema, PaymentPreviewSchema } from '../../contract/payments.ts';
import { requireSendingAllowed } from '../anomalies/rep-pause.ts';
import { appendAudit } from '../audit/audit-log.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { messageFor, type Principal, principalOf, requires, visibleConversation } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { newId } from '../ids.ts';
import { storeGuardedRequest } from '../payments/guarded-request.ts';
import { requireStepUp } from '../payments/payment-guards.ts';
import { knownCurrency, paymentText } from '../payments/payment-links.ts';
import { MAX_LINK_DAYS, type PaymentSettings, readPaymentSettings } from '../payments/payment-settings.ts';
import {
  type PaymentRequestRow,
  paymentById,
  paymentByKey,
  paymentDto,
  updatePayment,
} from '../payments/payment-store.ts';
import type { Payments } from '../payments/payments.ts';
import { refusedSend } from '../review/review-items.ts';
import { checkOutbound, contactReference } from '../sending-check/outbound-check.ts';
import { toDto } from '../stores/messages.ts';
import { idempotencyKeyOf, SEND_ERROR_CODES, sendText, withE164Numbers } from './messages.ts';
import { ContactRefSchema, PhoneInput } from './schemas.ts';

const DAY_MS = 86_400_000;
const tags = ['payments'];

const PaymentBody = Type.Object(
  {
    from: PhoneInput,
    to: Type.Optional(PhoneInput),
    contact: Type.Optional(ContactRefSchema),
    amountMinor: Type.Integer({
      minimum: 1,
      maximum: 1_000_000_000_000,
      description: 'In minor units (cents)',
    }),
    currency: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{3}$',
        description: 'ISO 4217; the org’s first currency when left out',
      }),
    ),
    description: Type.String({ minLength: 1, maxLength: 120, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    reference: Type.Optional(
      Type.String({ minLength: 1, maxLength: 60, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    ),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LINK_DAYS })),
  },
  { additionalProperties: false },
);
type PaymentInput = Static<typeof PaymentBody>;

const PAYMENT_ERRORS = ['PAYMENTS_NOT_CONFIGURED', 'CURRENCY_NOT_ALLOWED', 'AMOUNT_TOO_LARGE'] as const;
const GUARD_ERRORS = [
  'DAILY_LIMIT_REACHED',
  'STEP_UP_REQUIRED',
  'PAYMENTS_ON_HOLD',
  'PAYMENT_NEEDS_APPROVAL',
] as const;

export function paymentsOf(deps: Deps): Payments {
  if (deps.payments === null)
    throw new ApiError(
      503,
      'PAYMENTS_NOT_CONFIGURED',
      'Payment links are off on this relay (PAYMENT_PROVIDER=off).',
    );
  return deps.payments;
}

/** The request's amount and currency against the org's rules; the currency as stored. */
function checkedTerms(settings: PaymentSettings, input: PaymentInput): string {
  const currency = (input.currency ?? settings.currencies[0] ?? 'usd').toLowerCase();
  if (!settings.currencies.includes(currency) || !knownCurrency(currency))
    throw new ApiError(
      422,
      'CURRENCY_NOT_ALLOWED',
      `Your organisation takes payments in ${settings.currencies.join(', ').toUpperCase()}, not ${currency.toUpperCase()}.`,
      {
        allowed: settings.currencies,
      },
    );
  if (input.amountMinor > settings.maxAmountMinor)
    throw new ApiError(
      422,
      'AMOUNT_TOO_LARGE',
      `One request may ask for at most ${settings.maxAmountMinor} (minor units).`,
      {
        max: settings.maxAmountMinor,
      },
    );
  return currency;
}

export async function businessName(db: Queryable, orgId: string): Promise<string> {
  const [org] = await db.query<{ name: string; ident: string | null }>(
    `SELECT name, settings->>'identificationName' AS ident FROM orgs WHERE id = $1`,
    [orgId],
  );
  return (org?.ident ?? '').trim() || (org?.name ?? '');
}

export async function textFor(
  deps: Deps,
  row: Pick<
    PaymentRequestRow,
    'id' | 'org_id' | 'amount_minor' | 'currency' | 'description' | 'reference' | 'expires_at'
  >,
  reminder = false,
) {
  return paymentText({
    businessName: await businessName(deps.db, row.org_id),
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    description: row.description,
    reference: row.reference,
    link: await paymentsOf(deps).linkFor(deps.db, row.org_id, row.id, deps.config.publicUrl),
    expiresAt: row.expires_at,
    reminder,
  });
}

type SendNumbers = Awaited<ReturnType<typeof withE164Numbers>>;

/**
 * The request under this key if there is one (the same terms, or 409), else a new one checked
 * against the send rules first and stored with its `sent` step: a request the rules refuse is
 * never stored, and its refusal is answered as for any text.
 */
async function storedRequest(
  deps: Deps,
  p: Principal,
  input: PaymentInput,
  numbers: SendNumbers,
  key: string,
): Promise<PaymentRequestRow> {
  const { db } = deps;
  const settings = await readPaymentSettings(db, p.orgId);
  const currency = checkedTerms(settings, input);
  const existing = await paymentByKey(db, p.orgId, key);
  if (existing !== null) {
    const same =
      Number(existing.amount_minor) === input.amountMinor &&
      existing.currency === currency &&
      existing.description === input.description;
    if (!same)
      throw new ApiError(
        409,
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used for a different payment request.',
      );
    return existing;
  }
  const now = deps.clock();
  requireSendingAllowed(p, now);
  await requireStepUp(db, p, settings, input.amountMinor, now);
  const draft = {
    id: newId(),
    org_id: p.orgId,
    amount_minor: input.amountMinor,
    currency,
    description: input.description,
    reference: input.reference ?? null,
    expires_at: new Date(now.getTime() + (input.expiresInDays ?? settings.linkDays) * DAY_MS),
  };
  const checked = await checkOutbound(
    deps,
    p.orgId,
    { ...numbers, body: await textFor(deps, draft) },
    { idempotencyKey: null },
  );
  if (checked.senderId === null)
    throw new ApiError(
      422,
      'UNKNOWN_SENDER_NUMBER',
      `${numbers.from} is not one of your organisation's sender numbers.`,
    );
  if (!checked.decision.allowed) throw await refusedSend(db, p, checked, 'payment request');
  // Derived before the transaction: on PGlite's one connection a read of the secret inside it would wait on itself.
  const tokenHash = paymentsOf(deps).hashOf(await paymentsOf(deps).tokenFor(draft.id));
  return storeGuardedRequest(
    db,
    p,
    {
      id: draft.id,
      orgId: p.orgId,
      tokenHash,
      idempotencyKey: key,
      senderNumberId: checked.senderId,
      amountMinor: input.amountMinor,
      currency,
      description: input.description,
      reference: draft.reference,
      provider: paymentsOf(deps).provider.name,
      expiresAt: draft.expires_at,
      createdBy: { userId: p.userId, keyId: p.keyId, name: p.displayName },
      at: now,
      toE164: checked.to,
    },
    settings,
    () => paymentsOf(deps).wake(),
  );
}

/** Asks for a payment: stores the request, then sends its text through the normal send path. */
async function requestPayment(
  deps: Deps,
  p: Principal,
  body: PaymentInput,
  key: string,
  log: FastifyBaseLogger,
) {
  const { db } = deps;
  const numbers = await withE164Numbers(db, p.orgId, {
    from: body.from,
    to: body.to,
    contact: body.contact,
    body: '-',
  });
  if (numbers.to === undefined) contactReference(numbers);
  let row = await storedRequest(deps, p, body, numbers, key);
  const text = await textFor(deps, row);
  let outcome: Awaited<ReturnType<typeof sendText>>;
  try {
    outcome = await sendText(deps, p, { ...numbers, body: text }, `payment-request:${key}`, log);
  } catch (error) {
    // Refused after all (an opt-out raced the request): it never reached the customer, so it goes.
    if (error instanceof ApiError && row.message_id === null) await removeUnsent(db, row.id);
    throw error;
  }
  if (row.message_id === null) {
    const fields = { message_id: outcome.row.id, conversation_id: outcome.row.conversation_id };
    const at = deps.clock();
    row =
      (await db.transaction(async (tx) => {
        const updated = await updatePayment(tx, row, { fields, at });
        if (updated === null) return null;
        await appendAudit(tx, {
          orgId: p.orgId,
          actor: p.actor,
          action: 'payment.requested',
          target: { type: 'payment_request', id: row.id },
          at,
          // Not the description or reference: sealed on the request (payment-details.ts), they would
          // lie in clear in the append-only log. The request's id (target) leads to them.
          detail: {
            amountMinor: Number(row.amount_minor),
            currency: row.currency,
            messageId: outcome.row.id,
          },
        });
        return updated;
      })) ?? row;
  }
  return { payment: paymentDto(row), message: messageFor(p, toDto(outcome.row)) };
}

async function removeUnsent(db: Database, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.query(
      'SELECT id FROM payment_requests WHERE id = $1 AND message_id IS NULL FOR UPDATE',
      [id],
    );
    if (row === undefined) return;
    await tx.query('DELETE FROM payment_status_events WHERE request_id = $1', [id]);
    await tx.query('DELETE FROM payment_requests WHERE id = $1', [id]);
  });
}

/** The request, if the principal may see its conversation; 404 otherwise (another org's, or hidden). */
export async function visiblePayment(deps: Deps, p: Principal, id: string): Promise<PaymentRequestRow> {
  const row = await paymentById(deps.db, p.orgId, id);
  if (
    row === null ||
    (row.conversation_id !== null && !(await visibleConversation(deps.db, p, row.conversation_id)))
  )
    throw new ApiError(404, 'PAYMENT_NOT_FOUND', 'No such payment request in your organisation.');
  return row;
}

export const paymentRequestRoutes: RouteModule = (app, deps) => {
  app.post(
    '/v1/payment-requests',
    {
      config: requires('payments.create'),
      schema: {
        summary: 'Ask a customer for a payment by text',
        description:
          'Stores a payment request and texts the customer our own link (PUBLIC_URL/p/<token>) through the normal send path: consent, quiet hours, first-contact and content rules apply, and a refusal is answered as for any text. Send an Idempotency-Key.',
        tags,
        body: PaymentBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 201: PaymentCreatedSchema, ...errorResponses },
        'x-error-codes': [...SEND_ERROR_CODES, ...PAYMENT_ERRORS, ...GUARD_ERRORS],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      paymentsOf(deps);
      return reply.code(201).send(await requestPayment(deps, p, request.body, key, request.log));
    },
  );

  paymentPreviewRoute(app, deps);
};

/** What a request would text and what the send rules would say, storing nothing. */
const paymentPreviewRoute: RouteModule = (app, deps) => {
  const { db } = deps;
  app.post(
    '/v1/payment-requests/preview',
    {
      config: requires('payments.create'),
      schema: {
        summary: 'Preview a payment request’s text',
        description:
          'The exact text (but for the link’s token) and what the send rules would decide, storing nothing.',
        tags,
        body: PaymentBody,
        response: { 200: PaymentPreviewSchema, ...errorResponses },
        'x-error-codes': ['INVALID_PHONE_NUMBER', 'UNKNOWN_SENDER_NUMBER', ...PAYMENT_ERRORS],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const body = request.body;
      const settings = await readPaymentSettings(db, p.orgId);
      const currency = checkedTerms(settings, body);
      paymentsOf(deps);
      const days = body.expiresInDays ?? settings.linkDays;
      const text = await textFor(deps, {
        id: newId(),
        org_id: p.orgId,
        amount_minor: body.amountMinor,
        currency,
        description: body.description,
        reference: body.reference ?? null,
        expires_at: new Date(deps.clock().getTime() + days * DAY_MS),
      });
      const input = await withE164Numbers(db, p.orgId, {
        from: body.from,
        to: body.to,
        contact: body.contact,
        body: text,
      });
      const checked = await checkOutbound(deps, p.orgId, input, { idempotencyKey: null });
      if (checked.senderId === null)
        throw new ApiError(
          422,
          'UNKNOWN_SENDER_NUMBER',
          `${input.from} is not one of your organisation's sender numbers.`,
        );
      const d = checked.decision;
      return {
        text,
        check: {
          allowed: d.allowed,
          refusals: d.refusals,
          finalText: d.finalText,
          firstContactNotice: d.firstContactNotice,
          segments: d.segments,
          encoding: d.encoding,
          recipientLocalTime: d.recipientLocalTime,
          nextAllowedAt: d.nextAllowedAt,
          schedulable: d.schedulable,
          sendAt: checked.sendAt?.toISOString() ?? null,
        },
        settings: {
          currencies: settings.currencies,
          linkDays: settings.linkDays,
          maxLinkDays: MAX_LINK_DAYS,
          maxAmountMinor: settings.maxAmountMinor,
        },
      };
    },
  );
};
