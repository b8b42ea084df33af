import { hostname } from 'node:os';
import { evaluateOutbound } from '../compliance/gate.ts';
import type { Database } from '../db/database.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { confirmationsSinceOptOut, currentConsent } from './consent-store.ts';
import { getMessage, type MessageRow, updateStatus } from './messages.ts';
import { ProviderError, type SmsProvider } from './sms-provider.ts';

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
}

interface JobRow {
  id: number;
  message_id: string;
  attempts: number;
  state: string;
}

/**
 * Sends queued messages. Job states: queued → sending (leased) → done | failed. A job is claimed
 * with FOR UPDATE SKIP LOCKED, so any number of relay processes share one queue. A lease that
 * expires (the process died mid-send) is not simply re-sent: the provider is asked first whether
 * it accepted the message, and only if not is the job queued again.
 */
export class OutboxWorker {
  readonly workerId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private readonly runner: CoalescingRunner;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.batchSize = options.batchSize ?? 16;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 8;
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
    await this.recoverExpiredLeases();
    while (!this.runner.isStopped) {
      const jobs = await this.claim();
      if (jobs.length === 0) return;
      await Promise.all(jobs.map((job) => this.process(job)));
      if (jobs.length < this.batchSize) return;
    }
  }

  private async claim(): Promise<JobRow[]> {
    return this.options.db.query<JobRow>(
      `UPDATE outbox_jobs SET state = 'sending', attempts = attempts + 1, claimed_by = $1,
              lease_until = now() + ($2::int * interval '1 millisecond'), updated_at = now()
        WHERE id IN (SELECT id FROM outbox_jobs WHERE state = 'queued' AND available_at <= now()
                      ORDER BY available_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, message_id, attempts, state`,
      [this.workerId, this.leaseMs, this.batchSize],
    );
  }

  private async process(job: JobRow): Promise<void> {
    const { db, provider } = this.options;
    const message = await getMessage(db, job.message_id);
    if (message === null) {
      await this.finishJob(job.id, 'failed', 'message missing');
      return;
    }
    // The gate runs again at send time: an opt-out that arrived after queueing wins.
    const verdict = evaluateOutbound({
      purpose: message.purpose,
      consent: await currentConsent(db, message.org_id, message.to_e164),
      confirmationsSinceOptOut:
        message.purpose === 'opt_out_confirmation'
          ? await confirmationsSinceOptOut(db, message.org_id, message.to_e164, {
              createdAt: message.created_at,
              id: message.id,
            })
          : 0,
      now: new Date(),
    });
    if (!verdict.allow) {
      await this.fail(job, message, verdict.code, `Not sent: ${verdict.message}`);
      return;
    }
    try {
      const result = await provider.send({
        clientRef: message.id,
        from: message.from_e164,
        to: message.to_e164,
        body: message.body,
        statusCallbackUrl: `${this.options.publicUrl}/webhooks/plivo/status`,
      });
      await this.markSent(job, message.id, result.providerMessageId);
    } catch (error) {
      const providerError =
        error instanceof ProviderError
          ? error
          : new ProviderError(true, 'PROVIDER_UNREACHABLE', String(error));
      if (providerError.retryable && job.attempts < this.maxAttempts) {
        await this.retryLater(job, providerError);
      } else {
        await this.fail(job, message, providerError.code, providerError.message);
      }
    }
  }

  private async markSent(job: JobRow, messageId: string, providerMessageId: string): Promise<void> {
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
    });
  }

  private async retryLater(job: JobRow, error: ProviderError): Promise<void> {
    // Exponential backoff with full jitter, capped at five minutes.
    const ceiling = Math.min(300_000, 1000 * 2 ** (job.attempts - 1));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
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

  private async fail(job: JobRow, message: MessageRow, code: string, text: string): Promise<void> {
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

  /** Jobs whose sender died mid-send: ask the provider before ever sending again. */
  private async recoverExpiredLeases(): Promise<void> {
    const { db, provider } = this.options;
    const expired = await db.query<JobRow & { created_at: Date; to_e164: string }>(
      `SELECT j.id, j.message_id, j.attempts, j.state, j.created_at, m.to_e164
         FROM outbox_jobs j JOIN messages m ON m.id = j.message_id
        WHERE j.state = 'sending' AND j.lease_until < now() LIMIT 50`,
    );
    for (const job of expired) {
      const accepted = await provider.findAccepted(
        { clientRef: job.message_id, to: job.to_e164 },
        job.created_at,
      );
      if (accepted !== null) {
        await this.markSent(job, job.message_id, accepted);
        this.options.log(
          'info',
          `job ${job.id}: lease expired but the provider had accepted it; recorded as sent`,
        );
      } else {
        await db.query(
          `UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, updated_at = now()
            WHERE id = $1 AND state = 'sending' AND lease_until < now()`,
          [job.id],
        );
        this.options.log('info', `job ${job.id}: lease expired and the provider never saw it; queued again`);
      }
    }
  }
}
