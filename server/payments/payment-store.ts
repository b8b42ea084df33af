import { queuePaymentWriteBack } from '../crm-sync/payment-jobs.ts';
import type { Queryable } from '../db/database.ts';
import { appendEvent } from '../live/events.ts';
import { phoneToken } from '../stores/phone-columns.ts';
import { openPaymentRow, openPaymentRows, sealPaymentDetails } from './payment-details.ts';
import { formatAmount } from './payment-links.ts';
import { advance, type PaymentStatus } from './payment-status.ts';

export interface PaymentRequestRow {
  id: string;
  org_id: string;
  token_hash: string;
  idempotency_key: string;
  conversation_id: string | null;
  message_id: string | null;
  sender_number_id: string | null;
  amount_minor: string | number;
  currency: string;
  description: string;
  reference: string | null;
  /** The data key that sealed description and reference; null once opened (payment-details.ts). */
  details_key: number | null;
  status: PaymentStatus;
  provider: string;
  checkout_id: string | null;
  checkout_url: string | null;
  checkout_expires_at: Date | null;
  attempts: number;
  failed_attempts: number;
  to_e164: string | null;
  payment_id: string | null;
  expires_at: Date;
  created_by_user_id: string | null;
  created_by_key_id: string | null;
  created_by_name: string | null;
  paid_amount_minor: string | number | null;
  paid_currency: string | null;
  card_brand: string | null;
  card_last4: string | null;
  refunded_minor: string | number;
  review_reason: string | null;
  reminded_at: Date | null;
  expiry_notified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A payment request as the API and the thread show it: never a card number, never the link token. */
export function paymentDto(row: PaymentRequestRow) {
  const amountMinor = Number(row.amount_minor);
  const paidMinor = row.paid_amount_minor === null ? null : Number(row.paid_amount_minor);
  return {
    id: row.id,
    status: row.status,
    amountMinor,
    currency: row.currency,
    amountText: formatAmount(amountMinor, row.currency),
    description: row.description,
    reference: row.reference,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    expiresAt: row.expires_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    createdBy: { userId: row.created_by_user_id, name: row.created_by_name },
    paid:
      paidMinor === null
        ? null
        : {
            amountMinor: paidMinor,
            currency: row.paid_currency ?? row.currency,
            card:
              row.card_brand === null || row.card_last4 === null
                ? null
                : { brand: row.card_brand, last4: row.card_last4 },
          },
    refundedMinor: Number(row.refunded_minor),
    reviewReason: row.review_reason,
    remindedAt: row.reminded_at?.toISOString() ?? null,
  };
}
export type PaymentDto = ReturnType<typeof paymentDto>;

export interface NewPaymentRequest {
  id: string;
  orgId: string;
  tokenHash: string;
  idempotencyKey: string;
  senderNumberId: string | null;
  amountMinor: number;
  currency: string;
  description: string;
  reference: string | null;
  provider: string;
  expiresAt: Date;
  createdBy: { userId: string | null; keyId: string | null; name: string };
  at: Date;
  /** The customer's number (the guards count links per number). */
  toE164: string;
}

/** Stores a new request as `sent`; the caller sends its text next (and removes it if refused). */
export async function insertPaymentRequest(db: Queryable, r: NewPaymentRequest): Promise<PaymentRequestRow> {
  const sealed = await sealPaymentDetails(db, r.orgId, r.id, r);
  const [row] = await db.query<PaymentRequestRow>(
    `INSERT INTO payment_requests (id, org_id, token_hash, idempotency_key, sender_number_id, amount_minor, currency,
       description, reference, status, provider, expires_at, created_by_user_id, created_by_key_id, created_by_name,
       created_at, updated_at, to_e164, details_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'sent', $10, $11, $12, $13, $14, $15, $15, $16, $17)
     ON CONFLICT (org_id, idempotency_key) DO NOTHING RETURNING *`,
    [
      r.id,
      r.orgId,
      r.tokenHash,
      r.idempotencyKey,
      r.senderNumberId,
      r.amountMinor,
      r.currency,
      sealed.description,
      sealed.reference,
      r.provider,
      r.expiresAt,
      r.createdBy.userId,
      r.createdBy.keyId,
      r.createdBy.name,
      r.at,
      phoneToken(db, r.toE164),
      sealed.detailsKey,
    ],
  );
  return (
    (await openPaymentRow(db, row)) ??
    ((await paymentByKey(db, r.orgId, r.idempotencyKey)) as PaymentRequestRow)
  );
}

export async function paymentByKey(
  db: Queryable,
  orgId: string,
  key: string,
): Promise<PaymentRequestRow | null> {
  const rows = await db.query<PaymentRequestRow>(
    'SELECT * FROM payment_requests WHERE org_id = $1 AND idempotency_key = $2',
    [orgId, key],
  );
  return openPaymentRow(db, rows[0]);
}

export async function paymentById(
  db: Queryable,
  orgId: string,
  id: string,
): Promise<PaymentRequestRow | null> {
  const rows = await db.query<PaymentRequestRow>(
    'SELECT * FROM payment_requests WHERE org_id = $1 AND id = $2',
    [orgId, id],
  );
  return openPaymentRow(db, rows[0]);
}

export async function paymentByTokenHash(db: Queryable, hash: string): Promise<PaymentRequestRow | null> {
  const rows = await db.query<PaymentRequestRow>('SELECT * FROM payment_requests WHERE token_hash = $1', [
    hash,
  ]);
  return openPaymentRow(db, rows[0]);
}

/** The request a provider event is about: by our id in its metadata, else by checkout or payment. */
export async function paymentForEvent(
  db: Queryable,
  ids: { requestId: string | null; checkoutId: string | null; paymentId: string | null },
): Promise<PaymentRequestRow | null> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const rows = await db.query<PaymentRequestRow>(
    `SELECT * FROM payment_requests
      WHERE id = $1::uuid OR (checkout_id IS NOT NULL AND checkout_id = $2) OR (payment_id IS NOT NULL AND payment_id = $3)
      LIMIT 1`,
    [
      ids.requestId !== null && uuid.test(ids.requestId) ? ids.requestId : null,
      ids.checkoutId,
      ids.paymentId,
    ],
  );
  return openPaymentRow(db, rows[0]);
}

export async function paymentsOfConversation(
  db: Queryable,
  orgId: string,
  conversationId: string,
): Promise<PaymentRequestRow[]> {
  const rows = await db.query<PaymentRequestRow>(
    'SELECT * FROM payment_requests WHERE org_id = $1 AND conversation_id = $2 ORDER BY created_at, id',
    [orgId, conversationId],
  );
  return openPaymentRows(db, rows);
}

/** Every status the request passed through, oldest first. */
export async function paymentHistory(
  db: Queryable,
  requestId: string,
): Promise<{ status: string; at: string }[]> {
  const rows = await db.query<{ status: string; occurred_at: Date }>(
    'SELECT status, occurred_at FROM payment_status_events WHERE request_id = $1 ORDER BY id',
    [requestId],
  );
  return rows.map((r) => ({ status: r.status, at: r.occurred_at.toISOString() }));
}

/** Columns a status change may set beside the status (payment details, the current checkout). */
export type PaymentFields = Partial<
  Pick<
    PaymentRequestRow,
    | 'checkout_id'
    | 'checkout_url'
    | 'checkout_expires_at'
    | 'attempts'
    | 'payment_id'
    | 'paid_amount_minor'
    | 'paid_currency'
    | 'card_brand'
    | 'card_last4'
    | 'refunded_minor'
    | 'review_reason'
    | 'reminded_at'
    | 'expiry_notified_at'
    | 'conversation_id'
    | 'message_id'
  >
>;

/**
 * Updates a request's fields and, when `next` moves it forward (payment-status.ts), its status,
 * recording the step, queueing its write-back to the org's CRMs (payment-jobs.ts) and announcing
 * `payment.updated` on /v1/events, all in the caller's transaction. Returns the row as it now is,
 * or null when another writer changed it first (the caller reads it again and retries).
 */
export async function updatePayment(
  tx: Queryable,
  row: PaymentRequestRow,
  change: { next?: PaymentStatus; fields?: PaymentFields; detail?: Record<string, unknown>; at: Date },
): Promise<PaymentRequestRow | null> {
  const status = change.next === undefined ? null : advance(row.status, change.next);
  const fields = Object.entries(change.fields ?? {});
  if (status === null && fields.length === 0) return row;
  const sets = fields.map(([column], i) => `${column} = $${i + 5}`);
  const updated = await openPaymentRow(
    tx,
    (
      await tx.query<PaymentRequestRow>(
        `UPDATE payment_requests SET status = $3, updated_at = $4${sets.length > 0 ? `, ${sets.join(', ')}` : ''}
          WHERE id = $1 AND status = $2 RETURNING *`,
        [row.id, row.status, status ?? row.status, change.at, ...fields.map(([, value]) => value)],
      )
    )[0],
  );
  if (updated === null) return null;
  if (status !== null) {
    await tx.query(
      'INSERT INTO payment_status_events (request_id, status, detail, occurred_at) VALUES ($1, $2, $3, $4)',
      [row.id, status, JSON.stringify(change.detail ?? {}), change.at],
    );
  }
  await queuePaymentWriteBack(tx, updated, { statusChanged: status !== null, fields: change.fields ?? {} });
  await appendEvent(tx, {
    orgId: row.org_id,
    type: 'payment.updated',
    conversationId: updated.conversation_id,
    payload: { payment: paymentDto(updated) },
  });
  return updated;
}
