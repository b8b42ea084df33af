import { hostname } from 'node:os';
import { type Clock, systemClock } from '../clock.ts';
import { decideOutbound } from '../compliance/decide.ts';
import { type Database, isUniqueViolation } from '../db/database.ts';
import { recordAcceptance } from '../inbound/status-callbacks.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { ProviderError, type SmsProvider } from '../providers/sms-provider.ts';
import { confirmationsSinceOptOut, currentConsent } from '../stores/consent-store.ts';
import { getMessage, type MessageRow, updateStatus } from '../stores/messages.ts';
import {
  type ClaimedJob,
  claimReadyJobs,
  extendLease,
  findTooOld,
  finishJob,
  holdUntil,
  type JobRow,
  markJobDone,
  recipientFacts,
  recordedProviderIds,
  requeueAfter,
  requeueUnsent,
  reserveAccountSlot,
  reserveNumberSlot,
  type SendRates,
  takeExpiredLeases,
} from '../stores/outbox-store.ts';

export type { SendRates } from '../stores/outbox-store.ts';

export const DEFAULT_SEND_RATES: SendRates = { long_code: 1, toll_free: 3, short_code: 30 };

export interface OutboxWorkerOptions {
  db: Database;
  provider: SmsProvider;
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
/** How often a text held for its paused sender is looked at again. */
const PAUSED_SENDER_RECHECK_MS = 5 * 60_000;

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
        return await claimReadyJobs(this.options.db, {
          workerId: this.workerId,
          leaseMs: this.leaseMs,
          batchSize: this.batchSize,
          rates: this.rates,
          now: this.clock(),
          held,
        });
      } catch (error) {
        // Another process claimed a job for one of the same destinations at the same moment
        // (the one-in-flight index refused ours): take another look shortly.
        if (!isUniqueViolation(error, 'outbox_jobs_one_in_flight') || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
      }
    }
  }

  /** Reserves the next send slot of a sender number and of the account; waits until both open. */
  private async pace(senderNumberId: string | null): Promise<void> {
    const { db, provider } = this.options;
    const numberWait = senderNumberId === null ? 0 : await reserveNumberSlot(db, senderNumberId, this.rates);
    const accountWait = await reserveAccountSlot(db, provider.name, this.accountIntervalMs);
    const waitMs = Math.max(numberWait, accountWait);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, this.leaseMs / 2)));
  }

  private async process(job: ClaimedJob, held: Set<number>): Promise<void> {
    const { db, provider } = this.options;
    const message = await getMessage(db, job.message_id);
    if (message === null) {
      await finishJob(db, job.id, 'failed', 'message missing');
      return;
    }
    // The outbound decision runs again at send time: an opt-out, a review pause or quiet hours that began
    // after queueing win. One instant of the relay's clock judges every rule of this send.
    const now = this.clock();
    const recipient = await recipientFacts(db, message, now);
    const decision = decideOutbound({
      stage: 'dequeue',
      text: message.body,
      purpose: message.purpose,
      // The CRM's zone the send was judged by (kept with the job) wins over a stored one.
      recipient: { phone: message.to_e164, crmTimeZone: job.crm_time_zone ?? recipient.storedTimeZone },
      consent: await currentConsent(db, message.org_id, message.to_e164),
      pause: recipient.pause,
      quietHoursExcused: recipient.excused,
      quietHours: recipient.quietHours,
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
    if (refusal === undefined && recipient.senderPaused) {
      // An anomaly alert paused the rep who queued it: it waits (nothing lost) until an admin
      // resolves the alert, looked at again every five minutes.
      held.add(job.id);
      await holdUntil(
        db,
        job.id,
        new Date(now.getTime() + PAUSED_SENDER_RECHECK_MS),
        "SENDING_PAUSED: the sender's sending is paused by an anomaly alert",
      );
      this.options.log('warn', `job ${job.id}: its sender's sending is paused by an anomaly alert; held`);
      return;
    }
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
        orgId: message.org_id,
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

  /** Puts a job held by quiet hours back in the queue until the instant the decision names. */
  private async waitForSendingWindow(job: JobRow, nextAllowedAt: string | null, now: Date): Promise<void> {
    const next = nextAllowedAt === null ? new Date(now.getTime() + 3600_000) : new Date(nextAllowedAt);
    await holdUntil(this.options.db, job.id, next);
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
      await markJobDone(tx, job.id);
      // Callbacks that beat this commit were kept; they are applied now in order.
      await recordAcceptance(tx, { provider: this.options.provider.name, messageId, providerMessageId });
    });
  }

  private backoffMs(attempts: number): number {
    // Exponential backoff with jitter, capped at five minutes.
    const ceiling = Math.min(300_000, this.retryBaseMs * 2 ** (attempts - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  private async retryLater(job: JobRow, error: ProviderError): Promise<void> {
    const delay = this.backoffMs(job.attempts);
    await requeueAfter(this.options.db, job.id, `${error.code}: ${error.message}`, delay);
    this.options.log(
      'warn',
      `send of job ${job.id} failed (${error.code}); retry ${job.attempts} in ${delay} ms`,
    );
  }

  /** The provider may have the message: keep the job leased and reconcile when the lease ends. */
  private async holdForReconciliation(job: JobRow, error: ProviderError): Promise<void> {
    await extendLease(
      this.options.db,
      job.id,
      this.reconcileAfterMs,
      `${error.code}: ${error.message} (reconciling)`,
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
      await finishJob(tx, job.id, 'failed', `${code}: ${text}`);
      await updateStatus(tx, message.id, {
        status: 'failed',
        errorCode: code,
        errorMessage: text,
        detail: text,
      });
    });
  }

  /** Queued messages past their maximum age fail visibly rather than reach someone hours late. */
  private async expireOld(): Promise<void> {
    const { db } = this.options;
    const old = await findTooOld(db, this.maxAgeMs, new Date(this.clock().getTime() - this.maxAgeMs));
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
    const expired = await takeExpiredLeases(db, this.leaseMs, this.workerId);
    for (const job of expired) {
      let candidates: string[];
      try {
        candidates = await provider.findAccepted(
          { clientRef: job.message_id, to: job.to_e164, from: job.from_e164, orgId: job.org_id },
          job.claimed_since,
        );
      } catch (error) {
        this.options.log('warn', `job ${job.id}: cannot ask the provider yet (${String(error)}); will retry`);
        await extendLease(db, job.id, this.reconcileAfterMs);
        continue;
      }
      const taken = await recordedProviderIds(db, provider.name, candidates);
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
      await requeueUnsent(db, job.id, this.workerId);
      this.options.log('info', `job ${job.id}: the provider never saw it; queued again`);
    }
  }
}
