import { appendAudit } from '../audit/audit-log.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import type { Principal } from '../http/access.ts';
import { guardRefusal, lockGuards } from './payment-guards.ts';
import type { PaymentSettings } from './payment-settings.ts';
import { insertPaymentRequest, type NewPaymentRequest, type PaymentRequestRow } from './payment-store.ts';

/**
 * Stores a new request with its `sent` step once the guards let it through, in one transaction
 * that holds the rep's and the number's guard locks. A refusal is thrown after the commit, so a
 * hold it raised is kept (and on the record).
 */
export async function storeGuardedRequest(
  db: Database,
  p: Principal,
  request: NewPaymentRequest,
  settings: PaymentSettings,
  /** Told after the commit when a refusal raised a hold (the managers' alert goes out soon). */
  onHold: () => void = () => {},
): Promise<PaymentRequestRow> {
  const guard = {
    orgId: p.orgId,
    rep: { userId: p.userId, keyId: p.userId === null ? p.keyId : null },
    phone: request.toE164,
    amountMinor: request.amountMinor,
    currency: request.currency,
    settings,
    now: request.at,
  };
  const stored = await db.transaction(async (tx) => {
    await lockGuards(tx, guard);
    const refusal = await guardRefusal(tx, guard);
    if (refusal !== null) {
      await auditHold(tx, p, refusal, request.at);
      return refusal;
    }
    const row = await insertPaymentRequest(tx, request);
    if (row.id === request.id)
      await tx.query(
        `INSERT INTO payment_status_events (request_id, status, detail, occurred_at) VALUES ($1, 'sent', '{}', $2)`,
        [row.id, request.at],
      );
    return row;
  });
  if (stored instanceof ApiError) {
    if ((stored.details as { holdId?: string } | undefined)?.holdId !== undefined) onHold();
    throw stored;
  }
  return stored;
}

/** A refusal that raised a hold is on the record: who, which rule, when. */
async function auditHold(tx: Queryable, p: Principal, refusal: ApiError, at: Date): Promise<void> {
  const details = refusal.details as { holdId?: string; reason?: string } | undefined;
  if (details?.holdId === undefined) return;
  await appendAudit(tx, {
    orgId: p.orgId,
    actor: p.actor,
    action: 'payment.refused_by_hold',
    target: { type: 'payment_hold', id: details.holdId },
    at,
    detail: { code: refusal.code, reason: details.reason ?? null },
  });
}
