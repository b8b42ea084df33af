import type { Database, Queryable } from '../db/database.ts';
import { EVENTS_CHANNEL } from '../live/events.ts';
import { phoneNumber } from '../stores/phone-columns.ts';

/** A CRM write that failed for good, as an admin sees it. */
export interface DeadLetter {
  id: string;
  crm: string;
  kind: string;
  /** The message id (kind message), the phone (consent), the CRM record (crm_optout) or the payment request (payment). */
  subject: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  createdAt: string;
  replayedAt: string | null;
  replayedBy: string | null;
}

interface DeadLetterRow {
  id: string;
  crm: string;
  kind: string;
  subject: string;
  error_code: string;
  error_message: string;
  attempts: number;
  created_at: Date;
  replayed_at: Date | null;
  replayed_by: string | null;
  job_id: number;
  connection_id: string;
}

const COLUMNS = `d.id, c.crm, d.kind, d.subject, d.error_code, d.error_message, d.attempts, d.created_at,
  d.replayed_at, d.replayed_by, d.job_id, d.connection_id`;

const toDto = (q: Queryable, r: DeadLetterRow): DeadLetter => ({
  id: r.id,
  crm: r.crm,
  kind: r.kind,
  // A consent job's subject is the number's token (sync-feed.ts): shown as the number.
  subject: r.kind === 'consent' ? phoneNumber(q, r.subject) : r.subject,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  attempts: r.attempts,
  createdAt: r.created_at.toISOString(),
  replayedAt: r.replayed_at?.toISOString() ?? null,
  replayedBy: r.replayed_by,
});

export async function listDeadLetters(
  db: Queryable,
  orgId: string,
  options: { state: 'open' | 'replayed' | 'all'; limit: number },
): Promise<DeadLetter[]> {
  const rows = await db.query<DeadLetterRow>(
    `SELECT ${COLUMNS} FROM crm_dead_letters d JOIN crm_connections c ON c.id = d.connection_id
      WHERE d.org_id = $1 AND ($2::text = 'all' OR ($2::text = 'open') = (d.replayed_at IS NULL))
      ORDER BY d.created_at DESC, d.id LIMIT $3`,
    [orgId, options.state, options.limit],
  );
  return rows.map((r) => toDto(db, r));
}

export async function countDeadLetters(db: Queryable, connectionId: string): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM crm_dead_letters WHERE connection_id = $1 AND replayed_at IS NULL`,
    [connectionId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Puts a dead letter's job back in the queue (attempts reset). Replaying one already replayed
 * answers the same again; null when the org has no such dead letter.
 */
export async function replayDeadLetter(
  db: Database,
  input: { orgId: string; id: string; actor: string },
): Promise<DeadLetter | null> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<DeadLetterRow>(
      `SELECT ${COLUMNS} FROM crm_dead_letters d JOIN crm_connections c ON c.id = d.connection_id
        WHERE d.org_id = $1 AND d.id = $2 FOR UPDATE OF d`,
      [input.orgId, input.id],
    );
    const letter = rows[0];
    if (letter === undefined) return null;
    if (letter.replayed_at !== null) return toDto(db, letter);
    // A consent job for the same phone may be waiting already; then that one carries the replay.
    const waiting = await tx.query(
      `SELECT 1 FROM crm_sync_jobs j JOIN crm_sync_jobs dead ON dead.id = $1
        WHERE j.connection_id = dead.connection_id AND j.kind = dead.kind AND j.subject = dead.subject
          AND j.state = 'queued' AND j.kind <> 'message'`,
      [letter.job_id],
    );
    await tx.query(
      `UPDATE crm_sync_jobs SET state = $2, attempts = 0, available_at = now(), last_error = NULL,
              note = 'replayed', updated_at = now()
        WHERE id = $1 AND state = 'dead'`,
      [letter.job_id, waiting.length > 0 ? 'done' : 'queued'],
    );
    const updated = await tx.query<{ replayed_at: Date }>(
      `UPDATE crm_dead_letters SET replayed_at = now(), replayed_by = $2 WHERE id = $1 RETURNING replayed_at`,
      [letter.id, input.actor],
    );
    await tx.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`);
    const replayedAt = updated[0]?.replayed_at;
    if (replayedAt === undefined) throw new Error(`dead letter ${letter.id} vanished while being replayed`);
    return toDto(db, { ...letter, replayed_at: replayedAt, replayed_by: input.actor });
  });
}
