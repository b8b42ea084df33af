import { appendAudit } from '../audit/audit-log.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/**
 * Releases one hold of an org, recorded with who, when and why in the hold and the audit log (the
 * API's POST /v1/payment-holds/:id/release and the CLI's `payments release` alike). Refused with
 * HOLD_NOT_FOUND (no such hold in that org) or HOLD_ALREADY_RELEASED; a refusal changes nothing.
 */
export async function releaseHold(
  db: Database,
  input: { orgId: string; holdId: string; actor: string; note: string | null; at: Date; ip?: string },
): Promise<void> {
  const [held] = await db.query<{ reason: string; request_id: string | null }>(
    'SELECT reason, request_id FROM payment_holds WHERE id = $1 AND org_id = $2',
    [input.holdId, input.orgId],
  );
  if (held === undefined)
    throw new ApiError(404, 'HOLD_NOT_FOUND', 'No such payment hold in your organisation.');
  const released = await db.transaction(async (tx) => {
    const rows = await tx.query(
      `UPDATE payment_holds SET released_at = $3, released_by = $4, release_note = $5
        WHERE id = $1 AND org_id = $2 AND released_at IS NULL RETURNING id`,
      [input.holdId, input.orgId, input.at, input.actor, input.note],
    );
    if (rows.length === 0) return false;
    // A released link's failed card attempts were looked at: counting starts again, so the
    // customer's next decline does not hold it at once.
    if (held.request_id !== null)
      await tx.query('UPDATE payment_requests SET failed_attempts = 0 WHERE id = $1 AND org_id = $2', [
        held.request_id,
        input.orgId,
      ]);
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'payment.hold_released',
      target: { type: 'payment_hold', id: input.holdId },
      at: input.at,
      ip: input.ip,
      detail: { reason: held.reason, note: input.note },
    });
    return true;
  });
  if (released) return;
  // Released before this one (perhaps a moment ago, by someone else): say by whom and when.
  const [now] = await db.query<{ released_at: Date | null; released_by: string | null }>(
    'SELECT released_at, released_by FROM payment_holds WHERE id = $1',
    [input.holdId],
  );
  throw new ApiError(409, 'HOLD_ALREADY_RELEASED', 'This hold was already released.', {
    releasedAt: now?.released_at?.toISOString() ?? null,
    releasedBy: now?.released_by ?? null,
  });
}
