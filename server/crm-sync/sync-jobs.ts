import { CrmAuthExpiredError, CrmError, CrmRateLimitError } from '../../crm-plugins/errors.ts';
import type { Database, Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import type { CrmConnection } from './connections.ts';

/**
 * A claimed CRM write: a message to log (or a status to update), a phone's consent, a CRM-side
 * opt-out, or a payment request's entry (payment-log.ts); or a read, a first text's owner (owner-lookup.ts).
 */
export interface JobRow {
  id: number;
  kind: 'message' | 'consent' | 'crm_optout' | 'payment' | 'owner';
  subject: string;
  attempts: number;
}

/** Why one job failed, and whether trying it again may help. */
export interface JobFailure {
  code: string;
  message: string;
  retryable: boolean;
}

/** A status job's subject: `<message id>#<status>` (once per message and status). */
export const STATUS_SEP = '#';

export interface SyncJobsOptions {
  db: Database;
  /** Who claims: leases name their owner, so a halted pass returns only its own claims. */
  workerId: string;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * The durable queue of CRM writes (`crm_sync_jobs`, 005_crm_sync.sql). Jobs are claimed with a
 * lease (FOR UPDATE SKIP LOCKED), so a killed process's claims return to the queue; a failed job
 * is retried with jittered exponential backoff until it runs out of attempts and becomes a dead letter.
 */
export class SyncJobs {
  constructor(private readonly options: SyncJobsOptions) {}

  /** Claims whose lease ran out (their process died) go back to the queue. */
  async releaseExpired(): Promise<void> {
    await this.options.db.query(
      `UPDATE crm_sync_jobs SET state = 'queued', lease_until = NULL, updated_at = now()
        WHERE state = 'working' AND lease_until < now()`,
    );
  }

  /** Up to `limit` due jobs of these kinds, oldest first, leased to this worker. */
  async claim(connection: CrmConnection, kinds: JobRow['kind'][], limit: number): Promise<JobRow[]> {
    return this.options.db.query<JobRow>(
      `UPDATE crm_sync_jobs SET state = 'working', attempts = attempts + 1, claimed_by = $1,
              lease_until = now() + ($2::int * interval '1 millisecond'), updated_at = now()
        WHERE id IN (SELECT id FROM crm_sync_jobs
                      WHERE connection_id = $3 AND kind = ANY($4::text[]) AND state = 'queued' AND available_at <= now()
                      ORDER BY available_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, subject, attempts`,
      [this.options.workerId, this.options.leaseMs, connection.id, kinds, limit],
    );
  }

  /** Jobs done; the note says why nothing was written, when nothing was. */
  async finish(ids: number[], note: string | null = null): Promise<void> {
    if (ids.length === 0) return;
    await this.options.db.query(
      `UPDATE crm_sync_jobs SET state = 'done', lease_until = NULL, note = $2, updated_at = now() WHERE id = ANY($1::bigint[])`,
      [ids, note],
    );
  }

  /** Jobs that wait on another process: back to the queue for a second, not counted as a failure. */
  async retrySoon(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.options.db.query(
      `UPDATE crm_sync_jobs SET state = 'queued', lease_until = NULL, available_at = now() + interval '1 second',
              updated_at = now() WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /** Whatever this worker had claimed on a connection goes back without counting as an attempt. */
  async returnClaims(connectionId: string): Promise<void> {
    await this.options.db.query(
      `UPDATE crm_sync_jobs SET state = 'queued', attempts = greatest(0, attempts - 1), lease_until = NULL, updated_at = now()
        WHERE connection_id = $1 AND state = 'working' AND claimed_by = $2`,
      [connectionId, this.options.workerId],
    );
  }

  /** A failed job: again later (exponential backoff) or, when permanent or out of attempts, a dead letter. */
  async fail(connection: CrmConnection, job: JobRow, failure: JobFailure): Promise<void> {
    const { db, maxAttempts, retryBaseMs } = this.options;
    if (failure.retryable && job.attempts < maxAttempts) {
      const ceiling = Math.min(300_000, retryBaseMs * 2 ** (job.attempts - 1));
      const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      await db.query(
        `UPDATE crm_sync_jobs SET state = 'queued', lease_until = NULL, last_error = $2,
                available_at = now() + ($3::int * interval '1 millisecond'), updated_at = now() WHERE id = $1`,
        [job.id, `${failure.code}: ${failure.message}`, delay],
      );
      return;
    }
    await db.transaction(async (tx) => {
      await tx.query(
        `UPDATE crm_sync_jobs SET state = 'dead', lease_until = NULL, last_error = $2, updated_at = now() WHERE id = $1`,
        [job.id, `${failure.code}: ${failure.message}`],
      );
      await tx.query(
        `INSERT INTO crm_dead_letters (id, org_id, connection_id, job_id, kind, subject, error_code, error_message, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          newId(),
          connection.orgId,
          connection.id,
          job.id,
          job.kind,
          job.subject,
          failure.code,
          failure.message.slice(0, 2000),
          job.attempts,
        ],
      );
    });
    this.options.log(
      'warn',
      `CRM ${connection.crm} job ${job.id} (${job.kind}) dead-lettered: ${failure.code}`,
    );
  }

  /** Queues messages for logging (once per connection: a message already queued or done is skipped). */
  async queueMessages(
    tx: Queryable,
    connection: CrmConnection,
    messageIds: string[],
    delayMs = 0,
  ): Promise<number> {
    if (messageIds.length === 0) return 0;
    const rows = await tx.query(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject, available_at)
       SELECT $1, $2, 'message', id, now() + ($4::int * interval '1 millisecond') AS available_at FROM unnest($3::text[]) AS id
       ON CONFLICT (connection_id, subject) WHERE kind = 'message' DO NOTHING RETURNING id`,
      [connection.id, connection.orgId, messageIds, delayMs],
    );
    return rows.length;
  }

  /** Queues the projection of these phones' consent (a phone already waiting is not queued twice). */
  async queueConsent(tx: Queryable, connection: CrmConnection, phones: string[]): Promise<void> {
    await tx.query(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject)
       SELECT $1, $2, 'consent', phone FROM unnest($3::text[]) AS phone
       ON CONFLICT (connection_id, kind, subject) WHERE kind IN ('consent', 'crm_optout') AND state = 'queued'
       DO NOTHING`,
      [connection.id, connection.orgId, [...new Set(phones)]],
    );
  }
}

/** Per-item CRM errors (a record gone, a value refused) fail the item; null: anything else stops the pass. */
export function itemFailure(error: unknown): JobFailure | null {
  if (error instanceof CrmRateLimitError || error instanceof CrmAuthExpiredError) return null;
  if (!(error instanceof CrmError)) return null;
  if (['forbidden', 'not_installed'].includes(error.code)) return null;
  return { code: error.code, message: error.message, retryable: error.retryable };
}
