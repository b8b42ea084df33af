import { hostname } from 'node:os';
import { type Clock, systemClock } from '../clock.ts';
import { decideOutbound, type OutboundDecisionFacts } from '../compliance/decide.ts';
import { type Database, isUniqueViolation } from '../db/database.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { confirmationsSinceOptOut, currentConsent } from './consent-store.ts';
import { applyPendingCallbacks } from './inbound.ts';
import { getMessage, type MessageRow, updateStatus } from './messages.ts';
import { ProviderError, type SmsProvider } from './sms-provider.ts';

/** Sends per second per sender number type (Plivo: about 1 per US 10DLC long code). */
export interface SendRates {
  long_code: number;
  toll_free: number;
  short_code: number;
}

export const DEFAULT_SEND_RATES: SendRates = { long_code: 1, toll_free: 3, short_code: 30 };

export interface OutboxWorkerOptions {
  db: Database;
  provider: SmsProvider;
  /** Base of the status callback URL given to the provider (PUBLIC_URL). */
  publicUrl: string;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  batchSize?: number;
  leaseMs?: number;
  pollMs?: number;
  maxAttempts?: number;
  /** A queued message older than this fails visibly instead of going out late. */
  maxAgeMs?: number;
  /** How long to wait before asking the provider about an ambiguous send. */
  reconcileAfterMs?: number;
  /** First retry delay; later ones double, with jitter, up to five minutes. */
  retryBaseMs?: number;
  sendRates?: SendRates;
  /**
   * The relay's clock (see server/clock.ts): quiet hours and consent windows at send time, and
   * when a scheduled or held text is due (`scheduled_for`). Leases, retry back-off
   * (`available_at`) and pacing use the database's clock.
   */
  clock?: Clock;
  /** Account-wide ceiling: Plivo allows 300 API requests per 5 seconds. */
  accountRequestsPer5s?: number;
}

interface JobRow {
  id: number;
  message_id: string;
  attempts: number;
  state: string;
  sender_number_id: string | null;
}

/** A job as claimed for sending: with the CRM time zone its send was judged by. */
interface ClaimedJob extends JobRow {
  crm_time_zone: string | null;
}

/**
 * Sends queued messages. The state machine of a job:
 *
 *   queued ──claim──▶ sending ──provider accepted──▶ done      (message: sent → delivered…)
 *     ▲                  │ ──permanent refusal/too old──▶ failed (message: failed, reason kept)
 *     │                  │ ──temporary error (5xx, 429, refused connection)──▶ queued, backoff
 *     └──nothing found───┤ ──ambiguous (timeout, reset) or lease expired (process died)──▶
 *                        │     stays `sending` until its lease ends, then RECONCILE: ask the
 *                        │     provider for messages to this destination since the job was
 *                        └──── claimed; one we have not recorded for another message → done;
 *                              none → queued again.
 *
 * So a crash between "provider accepted" and "database updated" never leads to a second send:
 * the only path back to `queued` from `sending` goes through the provider's own record.
 * Jobs are claimed with FOR UPDATE SKIP LOCKED, so any number of relay processes share one queue;
 * pacing slots are reserved in SQL, so the per-number and account ceilings hold across processes.
 */
export class OutboxWorker {
  readonly workerId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly maxAgeMs: number;
  private readonly reconcileAfterMs: number;
  private readonly retryBaseMs: number;
  private readonly rates: SendRates;
  private readonly accountIntervalMs: number;
  private readonly runner: CoalescingRunner;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.batchSize = options.batchSize ?? 16;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
    this.reconcileAfterMs = options.reconcileAfterMs ?? 5000;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.clock = options.clock ?? systemClock;
    this.rates = options.sendRates ?? DEFAULT_SEND_RATES;
    this.accountIntervalMs = 5000 / (options.accountRequestsPer5s ?? 300);
    this.runner = new CoalescingRunner(
      () => this.drain(),
      (error) => this.options.log('error', `outbox pass failed: ${String(error)}`),
    );
  }

  async start(): Promise<void> {
    this.unlisten = await this.options.db.listen('outbox', () => this.wake());
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  /** Resolves once in-flight sends are recorded; nothing new is claimed after it is called. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.unlisten?.();
    await this.runner.stop();
  }

  wake(): void {
    this.runner.wake();
  }

  /** Processes until the queue has nothing ready (tests await this directly). */
  async drain(): Promise<void> {
    await this.expireOld();
    await this.recoverExpiredLeases();
    // Jobs this pass put back to wait for the recipient's morning. Should the relay's clock jump
    // ahead past that morning into another night (a stepped clock, a fast test clock), a job would
    // be due again at once, held again, and the pass would never end: each is looked at once.
    const held = new Set<number>();
    while (!this.runner.isStopped) {
      const jobs = await this.claim(held);
      if (jobs.length === 0) return;
      await Promise.all(jobs.map((job) => this.process(job, held)));
    }
  }

  /**
   * Claims ready jobs, at most one second's worth per sender number (its rate), so a burst to
   * one number waits in the queue instead of failing or holding a lease for long.
   */
  private async claim(held: ReadonlySet<number>): Promise<ClaimedJob[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.claimOnce(held);
      } catch (error) {
        // Another process claimed a job for one of the same destinations at the same moment
        // (the one-in-flight index refused ours): take another look shortly.
        if (!isUniqueViolation(error, 'outbox_jobs_one_in_flight') || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
      }
    }
  }

  /**
   * Due means both: `available_at` (back-off, by the database's clock, which also sets leases and
   * pacing) and `scheduled_for` (a schedule or a quiet-hours hold, by the relay's clock).
   */
  private async claimOnce(held: ReadonlySet<number>): Promise<ClaimedJob[]> {
    return this.options.db.query<ClaimedJob>(
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
        this.workerId,
        this.leaseMs,
        this.batchSize,
        this.rates.short_code,
        this.rates.toll_free,
        this.rates.long_code,
        this.clock(),
        [...held],
      ],
    );
  }

  /** Reserves the next send slot of a sender number and of the account; waits until both open. */
  private async pace(senderNumberId: string | null): Promise<void> {
    const { db, provider } = this.options;
    let waitMs = 0;
    if (senderNumberId !== null) {
      const rows = await db.query<{ wait_ms: number }>(
        `UPDATE sender_numbers
            SET next_send_at = greatest(next_send_at, now()) + (1000.0 / (CASE number_type WHEN 'short_code' THEN $2::float
                                 WHEN 'toll_free' THEN $3::float ELSE $4::float END) * interval '1 millisecond')
          WHERE id = $1
        RETURNING greatest(0, extract(epoch FROM (next_send_at - now())) * 1000
                    - 1000.0 / (CASE number_type WHEN 'short_code' THEN $2::float
                                 WHEN 'toll_free' THEN $3::float ELSE $4::float END))::float AS wait_ms`,
        [senderNumberId, this.rates.short_code, this.rates.toll_free, this.rates.long_code],
      );
      waitMs = rows[0]?.wait_ms ?? 0;
    }
    await db.query(`INSERT INTO provider_pacing (provider) VALUES ($1) ON CONFLICT DO NOTHING`, [
      provider.name,
    ]);
    const account = await db.query<{ wait_ms: number }>(
      `UPDATE provider_pacing SET next_at = greatest(next_at, now()) + ($2::float * interval '1 millisecond')
        WHERE provider = $1
      RETURNING greatest(0, extract(epoch FROM (next_at - now())) * 1000 - $2::float)::float AS wait_ms`,
      [provider.name, this.accountIntervalMs],
    );
    waitMs = Math.max(waitMs, account[0]?.wait_ms ?? 0);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, this.leaseMs / 2)));
  }

  private async process(job: ClaimedJob, held: Set<number>): Promise<void> {
    const { db, provider } = this.options;
    const message = await getMessage(db, job.message_id);
    if (message === null) {
      await this.finishJob(job.id, 'failed', 'message missing');
      return;
    }
    // The outbound decision runs again at send time: an opt-out, a review pause or quiet hours that began
    // after queueing win. One instant of the relay's clock judges every rule of this send.
    const now = this.clock();
    const recipient = await this.recipientFacts(message, job.crm_time_zone, now);
    const decision = decideOutbound({
      stage: 'dequeue',
      text: message.body,
      purpose: message.purpose,
      recipient: { phone: message.to_e164, crmTimeZone: recipient.timeZone },
      consent: await currentConsent(db, message.org_id, message.to_e164),
      pause: recipient.pause,
      quietHoursExcused: recipient.excused,
      confirmationsSinceOptOut:
        message.purpose === 'opt_out_confirmation'
          ? await confirmationsSinceOptOut(db, message.org_id, message.to_e164, {
              createdAt: message.created_at,
              id: message.id,
            })
          : 0,
      now,
    });
    const [refusal] = decision.refusals;
    if (refusal?.code === 'QUIET_HOURS') {
      // Quiet hours are not a refusal of the message, only of the moment: it waits for morning.
      held.add(job.id);
      await this.waitForSendingWindow(job, decision.nextAllowedAt, now);
      return;
    }
    if (refusal !== undefined) {
      await this.fail(job, message, refusal.code, `Not sent: ${refusal.message}`);
      return;
    }
    await this.pace(job.sender_number_id);
    try {
      const result = await provider.send({
        clientRef: message.id,
        from: message.from_e164,
        to: message.to_e164,
        body: message.body,
        statusCallbackUrl: `${this.options.publicUrl}/webhooks/plivo/status`,
        powerpackUuid: recipient.powerpack,
      });
      await this.markSent(job, message.id, result.providerMessageId);
    } catch (error) {
      const providerError =
        error instanceof ProviderError
          ? error
          : new ProviderError(true, 'PROVIDER_ERROR', String(error), undefined, true);
      if (providerError.ambiguous) {
        await this.holdForReconciliation(job, providerError);
      } else if (providerError.retryable && job.attempts < this.maxAttempts) {
        await this.retryLater(job, providerError);
      } else {
        await this.fail(job, message, providerError.code, providerError.message);
      }
    }
  }

  /** What the decision needs about the recipient beyond consent: an open review, the contact's zone. */
  private async recipientFacts(
    message: MessageRow,
    /** The CRM's zone the send was judged by (kept with the job); it wins over a stored one. */
    crmTimeZone: string | null,
    now: Date,
  ): Promise<{
    pause: OutboundDecisionFacts['pause'];
    timeZone: string | null;
    excused: boolean;
    powerpack: string | null;
  }> {
    const rows = await this.options.db.query<{
      review_id: string | null;
      review_reason: string | null;
      review_since: Date | null;
      time_zone: string | null;
      excused: boolean;
      powerpack: string | null;
    }>(
      `SELECT r.id AS review_id, r.reason AS review_reason, r.created_at AS review_since,
              (SELECT ct.time_zone FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
                WHERE c.id = $3) AS time_zone,
              -- A reply the org's policy let through quiet hours stays excused only within its window.
              EXISTS (SELECT 1 FROM compliance_exceptions e
                       WHERE e.message_id = $4 AND e.policy = 'customer_reply_window'
                         AND e.created_at > $5::timestamptz - ((e.detail->>'windowMinutes')::int * interval '1 minute'))
                AS excused,
              (SELECT settings->>'plivoPowerpackUuid' FROM orgs WHERE id = $1) AS powerpack
         FROM (SELECT 1) AS one
         LEFT JOIN LATERAL (SELECT id, reason, created_at FROM consent_reviews
                             WHERE org_id = $1 AND phone_e164 = $2 AND status = 'open'
                             ORDER BY created_at LIMIT 1) r ON true`,
      [message.org_id, message.to_e164, message.conversation_id, message.id, now],
    );
    const row = rows[0];
    return {
      pause:
        row?.review_id == null || row.review_since === null
          ? null
          : { reviewId: row.review_id, reason: row.review_reason ?? '', since: row.review_since },
      timeZone: crmTimeZone ?? row?.time_zone ?? null,
      excused: row?.excused ?? false,
      powerpack: row?.powerpack ?? null,
    };
  }

  /** Puts a job held by quiet hours back in the queue until the instant the decision names. */
  private async waitForSendingWindow(job: JobRow, nextAllowedAt: string | null, now: Date): Promise<void> {
    const next = nextAllowedAt === null ? new Date(now.getTime() + 3600_000) : new Date(nextAllowedAt);
    await this.options.db.query(
      `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, attempts = greatest(attempts - 1, 0),
              scheduled_for = $2, last_error = 'QUIET_HOURS: waiting for the recipient''s sending window', updated_at = now()
        WHERE id = $1`,
      [job.id, next],
    );
    this.options.log(
      'info',
      `job ${job.id}: quiet hours at the recipient; waits until ${next.toISOString()}`,
    );
  }

  private async markSent(
    job: Pick<JobRow, 'id'>,
    messageId: string,
    providerMessageId: string,
  ): Promise<void> {
    await this.options.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE outbox_jobs SET state = 'done', lease_until = NULL, updated_at = now() WHERE id = $1`,
        [job.id],
      );
      await updateStatus(tx, messageId, {
        status: 'sent',
        providerMessageId,
        detail: `accepted by ${this.options.provider.name}`,
      });
      // Callbacks that beat this commit were kept; apply them now in order.
      await applyPendingCallbacks(tx, this.options.provider.name, providerMessageId);
    });
  }

  private backoffMs(attempts: number): number {
    // Exponential backoff with jitter, capped at five minutes.
    const ceiling = Math.min(300_000, this.retryBaseMs * 2 ** (attempts - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  private async retryLater(job: JobRow, error: ProviderError): Promise<void> {
    const delay = this.backoffMs(job.attempts);
    await this.options.db.query(
      `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, last_error = $2,
              available_at = now() + ($3::int * interval '1 millisecond'), updated_at = now()
        WHERE id = $1`,
      [job.id, `${error.code}: ${error.message}`, delay],
    );
    this.options.log(
      'warn',
      `send of job ${job.id} failed (${error.code}); retry ${job.attempts} in ${delay} ms`,
    );
  }

  /** The provider may have the message: keep the job leased and reconcile when the lease ends. */
  private async holdForReconciliation(job: JobRow, error: ProviderError): Promise<void> {
    await this.options.db.query(
      `UPDATE outbox_jobs SET lease_until = now() + ($2::int * interval '1 millisecond'), last_error = $3, updated_at = now()
        WHERE id = $1 AND state = 'sending'`,
      [job.id, this.reconcileAfterMs, `${error.code}: ${error.message} (reconciling)`],
    );
    this.options.log(
      'warn',
      `send of job ${job.id} is ambiguous (${error.code}); reconciling in ${this.reconcileAfterMs} ms`,
    );
  }

  private async fail(
    job: Pick<JobRow, 'id'>,
    message: MessageRow,
    code: string,
    text: string,
  ): Promise<void> {
    await this.options.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE outbox_jobs SET state = 'failed', lease_until = NULL, last_error = $2, updated_at = now() WHERE id = $1`,
        [job.id, `${code}: ${text}`],
      );
      await updateStatus(tx, message.id, {
        status: 'failed',
        errorCode: code,
        errorMessage: text,
        detail: text,
      });
    });
  }

  private async finishJob(jobId: number, state: 'done' | 'failed', note: string): Promise<void> {
    await this.options.db.query(
      `UPDATE outbox_jobs SET state = $2, lease_until = NULL, last_error = $3, updated_at = now() WHERE id = $1`,
      [jobId, state, note],
    );
  }

  /** Queued messages past their maximum age fail visibly rather than reach someone hours late. */
  private async expireOld(): Promise<void> {
    const { db } = this.options;
    const old = await db.query<{ id: number; message_id: string }>(
      `SELECT id, message_id FROM outbox_jobs
        WHERE state = 'queued'
          AND CASE WHEN scheduled_for IS NULL THEN available_at < now() - ($1::int * interval '1 millisecond')
                   ELSE scheduled_for < $2::timestamptz END
        LIMIT 100`,
      [this.maxAgeMs, new Date(this.clock().getTime() - this.maxAgeMs)],
    );
    for (const job of old) {
      const message = await getMessage(db, job.message_id);
      if (message !== null) {
        await this.fail(
          job,
          message,
          'EXPIRED',
          'Not sent: it waited in the queue longer than the maximum age.',
        );
      }
    }
  }

  /** Jobs whose sender died or whose send was ambiguous: ask the provider before ever sending again. */
  private async recoverExpiredLeases(): Promise<void> {
    const { db, provider } = this.options;
    // Taking the expired lease first (extending it) makes one process the reconciler of a job.
    const expired = await db.query<
      JobRow & { claimed_since: Date; to_e164: string; from_e164: string; powerpack: string | null }
    >(
      `WITH taken AS (
         UPDATE outbox_jobs SET lease_until = now() + ($1::int * interval '1 millisecond'), claimed_by = $2
          WHERE id IN (SELECT id FROM outbox_jobs WHERE state = 'sending' AND lease_until < now()
                        ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
         RETURNING id, message_id, attempts, state, sender_number_id, created_at
       )
       SELECT t.id, t.message_id, t.attempts, t.state, t.sender_number_id, t.created_at AS claimed_since,
              m.to_e164, m.from_e164, o.settings->>'plivoPowerpackUuid' AS powerpack
         FROM taken t JOIN messages m ON m.id = t.message_id JOIN orgs o ON o.id = m.org_id ORDER BY t.id`,
      [this.leaseMs, this.workerId],
    );
    for (const job of expired) {
      let candidates: string[];
      try {
        candidates = await provider.findAccepted(
          { clientRef: job.message_id, to: job.to_e164, from: job.from_e164, powerpackUuid: job.powerpack },
          job.claimed_since,
        );
      } catch (error) {
        this.options.log('warn', `job ${job.id}: cannot ask the provider yet (${String(error)}); will retry`);
        await db.query(
          `UPDATE outbox_jobs SET lease_until = now() + ($2::int * interval '1 millisecond') WHERE id = $1 AND state = 'sending'`,
          [job.id, this.reconcileAfterMs],
        );
        continue;
      }
      const known = await db.query<{ provider_message_id: string }>(
        'SELECT provider_message_id FROM messages WHERE provider = $1 AND provider_message_id = ANY($2::text[])',
        [provider.name, candidates],
      );
      const taken = new Set(known.map((k) => k.provider_message_id));
      const mine = candidates.find((c) => !taken.has(c));
      if (mine !== undefined) {
        await this.markSent(job, job.message_id, mine);
        this.options.log(
          'info',
          `job ${job.id}: the provider had accepted it (${mine}); recorded as sent, not resent`,
        );
        continue;
      }
      // The provider never had it: it may go again now (attempts still count towards the limit).
      await db.query(
        `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, updated_at = now(), available_at = now()
          WHERE id = $1 AND state = 'sending' AND claimed_by = $2`,
        [job.id, this.workerId],
      );
      this.options.log('info', `job ${job.id}: the provider never saw it; queued again`);
    }
  }
}
