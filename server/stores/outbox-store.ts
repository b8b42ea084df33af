import type { OutboundDecisionFacts } from '../compliance/decide.ts';
import { type OrgQuietHoursPolicy, quietHoursPolicyOf } from '../compliance/org-quiet-hours.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { MessageRow } from './messages.ts';
import { phoneNumber, phoneToken } from './phone-columns.ts';

/** The outbox queue's SQL: every query the outbox worker runs against `outbox_jobs` and pacing. */

/** Sends per second per sender number type (Plivo: about 1 per US 10DLC long code). */
export interface SendRates {
  long_code: number;
  toll_free: number;
  short_code: number;
}

export interface JobRow {
  id: number;
  message_id: string;
  attempts: number;
  state: string;
  sender_number_id: string | null;
}

/** A job as claimed for sending: with the CRM time zone its send was judged by. */
export interface ClaimedJob extends JobRow {
  crm_time_zone: string | null;
}

/** A job whose lease ended while `sending`, taken for reconciliation with the provider. */
export interface ExpiredLease extends JobRow {
  claimed_since: Date;
  org_id: string;
  to_e164: string;
  from_e164: string;
}

/**
 * Claims ready jobs, at most one second's worth per sender number (its rate), one per destination.
 * Due means both: `available_at` (back-off, by the database's clock, which also sets leases and
 * pacing) and `scheduled_for` (a schedule or a quiet-hours hold, by the relay's clock).
 */
export function claimReadyJobs(
  db: Database,
  claim: {
    workerId: string;
    leaseMs: number;
    batchSize: number;
    rates: SendRates;
    now: Date;
    held: ReadonlySet<number>;
  },
): Promise<ClaimedJob[]> {
  return db.query<ClaimedJob>(
    `WITH ready AS (
       SELECT j.id, row_number() OVER (PARTITION BY j.sender_number_id ORDER BY j.available_at, j.id) AS nth,
              row_number() OVER (PARTITION BY j.to_e164 ORDER BY j.available_at, j.id) AS nth_to_destination,
              CASE n.number_type WHEN 'short_code' THEN $4::float WHEN 'toll_free' THEN $5::float ELSE $6::float END AS rate
         FROM outbox_jobs j LEFT JOIN sender_numbers n ON n.id = j.sender_number_id
        WHERE j.state = 'queued' AND j.available_at <= now()
          AND (j.scheduled_for IS NULL OR j.scheduled_for <= $7::timestamptz) AND NOT (j.id = ANY($8::bigint[]))
          AND (n.next_send_at IS NULL OR n.next_send_at <= now() + interval '1 second')
          AND NOT EXISTS (SELECT 1 FROM outbox_jobs s WHERE s.state = 'sending' AND s.to_e164 = j.to_e164)
     )
     UPDATE outbox_jobs SET state = 'sending', attempts = attempts + 1, claimed_by = $1, scheduled_for = NULL,
            lease_until = now() + ($2::int * interval '1 millisecond'), updated_at = now()
      WHERE id IN (SELECT j.id FROM outbox_jobs j
                    WHERE j.id IN (SELECT id FROM ready WHERE nth <= greatest(1, ceil(rate)) AND nth_to_destination = 1)
                      AND j.state = 'queued'
                    ORDER BY j.available_at, j.id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, message_id, attempts, state, sender_number_id, crm_time_zone`,
    [
      claim.workerId,
      claim.leaseMs,
      claim.batchSize,
      claim.rates.short_code,
      claim.rates.toll_free,
      claim.rates.long_code,
      claim.now,
      [...claim.held],
    ],
  );
}

/** Reserves the sender number's next send slot; answers how long to wait for the one reserved. */
export async function reserveNumberSlot(
  db: Database,
  senderNumberId: string,
  rates: SendRates,
): Promise<number> {
  const rows = await db.query<{ wait_ms: number }>(
    `UPDATE sender_numbers
        SET next_send_at = greatest(next_send_at, now()) + (1000.0 / (CASE number_type WHEN 'short_code' THEN $2::float
                             WHEN 'toll_free' THEN $3::float ELSE $4::float END) * interval '1 millisecond')
      WHERE id = $1
    RETURNING greatest(0, extract(epoch FROM (next_send_at - now())) * 1000
                - 1000.0 / (CASE number_type WHEN 'short_code' THEN $2::float
                             WHEN 'toll_free' THEN $3::float ELSE $4::float END))::float AS wait_ms`,
    [senderNumberId, rates.short_code, rates.toll_free, rates.long_code],
  );
  return rows[0]?.wait_ms ?? 0;
}

/** Reserves the provider account's next request slot; answers how long to wait for it. */
export async function reserveAccountSlot(
  db: Database,
  provider: string,
  intervalMs: number,
): Promise<number> {
  await db.query(`INSERT INTO provider_pacing (provider) VALUES ($1) ON CONFLICT DO NOTHING`, [provider]);
  const rows = await db.query<{ wait_ms: number }>(
    `UPDATE provider_pacing SET next_at = greatest(next_at, now()) + ($2::float * interval '1 millisecond')
      WHERE provider = $1
    RETURNING greatest(0, extract(epoch FROM (next_at - now())) * 1000 - $2::float)::float AS wait_ms`,
    [provider, intervalMs],
  );
  return rows[0]?.wait_ms ?? 0;
}

/** What the decision needs about the recipient beyond consent: an open review, the contact's zone. */
export async function recipientFacts(
  db: Database,
  message: MessageRow,
  now: Date,
): Promise<{
  pause: OutboundDecisionFacts['pause'];
  storedTimeZone: string | null;
  excused: boolean;
  /** The rep who sent it is paused by an anomaly alert (server/anomalies/rep-pause.ts). */
  senderPaused: boolean;
  /** The org's quiet-hours policy now, read with the rest (no query of its own). */
  quietHours: OrgQuietHoursPolicy;
}> {
  const rows = await db.query<{
    review_id: string | null;
    review_reason: string | null;
    review_since: Date | null;
    time_zone: string | null;
    excused: boolean;
    sender_paused: boolean;
    quiet_hours: unknown;
  }>(
    `SELECT r.id AS review_id, r.reason AS review_reason, r.created_at AS review_since,
            EXISTS (SELECT 1 FROM messages sm JOIN users u ON u.id = sm.sent_by_user_id
                     WHERE sm.id = $4 AND u.sending_paused_at IS NOT NULL) AS sender_paused,
            (SELECT ct.time_zone FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
              WHERE c.id = $3) AS time_zone,
            (SELECT o.settings->'quietHours' FROM orgs o WHERE o.id = $1) AS quiet_hours,
            -- A reply the org's policy let through quiet hours stays excused only within its window.
            EXISTS (SELECT 1 FROM compliance_exceptions e
                     WHERE e.message_id = $4 AND e.policy = 'customer_reply_window'
                       AND e.created_at > $5::timestamptz - ((e.detail->>'windowMinutes')::int * interval '1 minute'))
              AS excused
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT id, reason, created_at FROM consent_reviews
                           WHERE org_id = $1 AND phone_e164 = $2 AND status = 'open'
                           ORDER BY created_at LIMIT 1) r ON true`,
    [message.org_id, phoneToken(db, message.to_e164), message.conversation_id, message.id, now],
  );
  const row = rows[0];
  return {
    pause:
      row?.review_id == null || row.review_since === null
        ? null
        : { reviewId: row.review_id, reason: row.review_reason ?? '', since: row.review_since },
    storedTimeZone: row?.time_zone ?? null,
    excused: row?.excused ?? false,
    senderPaused: row?.sender_paused ?? false,
    quietHours: quietHoursPolicyOf({ quietHours: row?.quiet_hours }),
  };
}

/** Puts a held job (quiet hours, a paused sender) back in the queue until `until`; the hold costs no attempt. */
export async function holdUntil(
  db: Database,
  jobId: number,
  until: Date,
  why = "QUIET_HOURS: waiting for the recipient's sending window",
): Promise<void> {
  await db.query(
    `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, attempts = greatest(attempts - 1, 0),
            scheduled_for = $2, last_error = $3, updated_at = now()
      WHERE id = $1`,
    [jobId, until, why],
  );
}

export async function markJobDone(db: Queryable, jobId: number): Promise<void> {
  await db.query(
    `UPDATE outbox_jobs SET state = 'done', lease_until = NULL, updated_at = now() WHERE id = $1`,
    [jobId],
  );
}

/** Ends a job for good, keeping why. */
export async function finishJob(
  db: Queryable,
  jobId: number,
  state: 'done' | 'failed',
  note: string,
): Promise<void> {
  await db.query(
    `UPDATE outbox_jobs SET state = $2, lease_until = NULL, last_error = $3, updated_at = now() WHERE id = $1`,
    [jobId, state, note],
  );
}

/** Back to the queue after a temporary failure, available again in `delayMs`. */
export async function requeueAfter(
  db: Database,
  jobId: number,
  note: string,
  delayMs: number,
): Promise<void> {
  await db.query(
    `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, last_error = $2,
            available_at = now() + ($3::int * interval '1 millisecond'), updated_at = now()
      WHERE id = $1`,
    [jobId, note, delayMs],
  );
}

/** Keeps a `sending` job leased for `ms` more (then it is reconciled), noting why when given. */
export async function extendLease(db: Database, jobId: number, ms: number, note?: string): Promise<void> {
  if (note === undefined) {
    await db.query(
      `UPDATE outbox_jobs SET lease_until = now() + ($2::int * interval '1 millisecond') WHERE id = $1 AND state = 'sending'`,
      [jobId, ms],
    );
    return;
  }
  await db.query(
    `UPDATE outbox_jobs SET lease_until = now() + ($2::int * interval '1 millisecond'), last_error = $3, updated_at = now()
      WHERE id = $1 AND state = 'sending'`,
    [jobId, ms, note],
  );
}

/** Queued jobs past the maximum age (by `available_at`, or by `scheduled_for` when held or scheduled). */
export function findTooOld(
  db: Database,
  maxAgeMs: number,
  scheduledCutoff: Date,
): Promise<{ id: number; message_id: string }[]> {
  return db.query<{ id: number; message_id: string }>(
    `SELECT id, message_id FROM outbox_jobs
      WHERE state = 'queued'
        AND CASE WHEN scheduled_for IS NULL THEN available_at < now() - ($1::int * interval '1 millisecond')
                 ELSE scheduled_for < $2::timestamptz END
      LIMIT 100`,
    [maxAgeMs, scheduledCutoff],
  );
}

/** Takes (by extending) expired leases, so one process is the reconciler of each job. */
export async function takeExpiredLeases(
  db: Database,
  leaseMs: number,
  workerId: string,
): Promise<ExpiredLease[]> {
  const rows = await db.query<ExpiredLease>(
    `WITH taken AS (
       UPDATE outbox_jobs SET lease_until = now() + ($1::int * interval '1 millisecond'), claimed_by = $2
        WHERE id IN (SELECT id FROM outbox_jobs WHERE state = 'sending' AND lease_until < now()
                      ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
       RETURNING id, message_id, attempts, state, sender_number_id, created_at
     )
     SELECT t.id, t.message_id, t.attempts, t.state, t.sender_number_id, t.created_at AS claimed_since,
            m.org_id, m.to_e164, m.from_e164
       FROM taken t JOIN messages m ON m.id = t.message_id JOIN orgs o ON o.id = m.org_id ORDER BY t.id`,
    [leaseMs, workerId],
  );
  return rows.map((r) => ({
    ...r,
    to_e164: phoneNumber(db, r.to_e164),
    from_e164: phoneNumber(db, r.from_e164),
  }));
}

/** Which of these provider ids are already recorded on a message. */
export async function recordedProviderIds(
  db: Database,
  provider: string,
  candidates: string[],
): Promise<Set<string>> {
  const rows = await db.query<{ provider_message_id: string }>(
    'SELECT provider_message_id FROM messages WHERE provider = $1 AND provider_message_id = ANY($2::text[])',
    [provider, candidates],
  );
  return new Set(rows.map((r) => r.provider_message_id));
}

/** The provider never had the job's text: it may go again now (attempts still count). */
export async function requeueUnsent(db: Database, jobId: number, workerId: string): Promise<void> {
  await db.query(
    `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, updated_at = now(), available_at = now()
      WHERE id = $1 AND state = 'sending' AND claimed_by = $2`,
    [jobId, workerId],
  );
}
