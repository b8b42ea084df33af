import { hostname } from 'node:os';
import { CrmAuthExpiredError, CrmError, CrmRateLimitError } from '../../crm-plugins/errors.ts';
import type { CrmPlugin } from '../../crm-plugins/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import type { Database, Queryable } from '../db/database.ts';
import { fallBackStaleOwnerRouting } from '../inbox/routing.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { PeriodicRunner } from '../lib/periodic-runner.ts';
import { EVENTS_CHANNEL } from '../live/events.ts';
import {
  CONNECTION_COLUMNS,
  type ConnectionRow,
  type ConnectionSecrets,
  type CrmConnection,
  setStatus,
  toConnection,
} from './connections.ts';
import { ConsentSync } from './consent-projection.ts';
import { ContactRefs } from './contact-refs.ts';
import { type CrmCall, type LivePlugin, LivePlugins, type PluginFactory } from './live-plugins.ts';
import { MessageLog } from './message-log.ts';
import { renewConnection } from './oauth.ts';
import { OwnerLookup } from './owner-lookup.ts';
import { PaymentLog } from './payment-log.ts';
import { feedConnection } from './sync-feed.ts';
import { SyncJobs } from './sync-jobs.ts';

export interface CrmSyncWorkerOptions {
  db: Database;
  /** Opens connection tokens; null when SECRETS_KEY is missing (nothing can be synced then). */
  secretsKey: SecretsKey | null;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Safety-net poll of the logs and the queue (NOTIFY on relay_events wakes it sooner). */
  pollMs?: number;
  /** How often each CRM is asked for opt-outs made there (Salesforce has no push; HubSpot also webhooks). */
  consentPollMs?: number;
  /** Messages wait this long after their event so one CRM call carries many of them. */
  lingerMs?: number;
  leaseMs?: number;
  /** Messages per appendMessages call; the plugin splits it into vendor batches (100 / 200). */
  maxBatch?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  /** The shortest pause after a 429, whatever Retry-After says. */
  minRateLimitWaitMs?: number;
  /** Builds a connection's plugin (tests and the sandbox CRM inject one); the real one by default. */
  pluginFor?: PluginFactory;
  /** The relay's clock (server/clock.ts): when a CRM-side opt-out is recorded in the ledger. */
  clock?: Clock;
}

/** Stops a connection's pass: the CRM asked us to wait, or needs an admin. */
class ConnectionHalt extends Error {}

/** Notified by a trigger on consent_events. */
export const CRM_SYNC_CHANNEL = 'crm_sync';

/**
 * Keeps each connected CRM in step with the relay. Design (issue #6):
 *
 *   events ─────────┐  per-connection (tx_id, id) cursors, commit-safe (see 005_crm_sync.sql)
 *   consent_events ─┴─▶ crm_sync_jobs (durable queue) ─▶ plugin.appendMessages / projectConsent
 *   payment_requests (each status change, payment-jobs.ts) ─▶ crm_sync_jobs ─▶ plugin.recordPayment
 *   a customer's first text (inbox/routing.ts) ─▶ crm_sync_jobs ─▶ the record's owner ─▶ assignee
 *   CRM (poll readConsentChanges; HubSpot webhook) ─▶ consent ledger (opt-outs only)
 *
 * A process takes a connection's lease (FOR UPDATE SKIP LOCKED), so any number of relay processes
 * share the work and one CRM account sees one caller at a time; jobs carry their own leases, so a
 * killed process's claims return to the queue. Messages are logged in batches (the plugins
 * deduplicate by message id, so a retried batch never logs twice); consent goes first and is
 * never held back by the batching window. 429s pause the connection for the CRM's Retry-After,
 * an expired token is refreshed once and the call repeated, permanent failures become dead letters.
 */
export class CrmSyncWorker {
  readonly workerId = `${hostname()}:${process.pid}:crm:${Math.random().toString(36).slice(2, 8)}`;
  private readonly lingerMs: number;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly minRateLimitWaitMs: number;
  private readonly runner: CoalescingRunner;
  private readonly jobs: SyncJobs;
  private readonly consent: ConsentSync;
  private readonly messages: MessageLog;
  private readonly payments: PaymentLog;
  private readonly owners: OwnerLookup;
  /** Falls back for first texts whose CRM owner lookup waited too long (the CRM down or throttled). */
  private readonly ownerSweep: PeriodicRunner;
  private readonly plugins: LivePlugins;
  private readonly rateLimitStreak = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private unlistenConsent: (() => Promise<void>) | null = null;
  private connectionsSeenAt = Number.NEGATIVE_INFINITY;
  private hasConnections = true;
  private warnedNoKey = false;

  constructor(private readonly options: CrmSyncWorkerOptions) {
    const { db, log } = options;
    const clock: Clock = options.clock ?? systemClock;
    this.lingerMs = options.lingerMs ?? 500;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.minRateLimitWaitMs = options.minRateLimitWaitMs ?? 250;
    this.plugins = new LivePlugins(options.pluginFor);
    this.jobs = new SyncJobs({
      db,
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      maxAttempts: options.maxAttempts ?? 8,
      retryBaseMs: this.retryBaseMs,
      log,
    });
    const refs = new ContactRefs(db);
    this.consent = new ConsentSync({
      db,
      jobs: this.jobs,
      refs,
      clock,
      consentPollMs: options.consentPollMs ?? 30_000,
      log,
    });
    this.messages = new MessageLog({ db, jobs: this.jobs, refs, maxBatch: options.maxBatch ?? 1000, log });
    this.payments = new PaymentLog({ db, jobs: this.jobs, refs, log, clock });
    this.owners = new OwnerLookup({ db, jobs: this.jobs, refs, clock, log });
    this.ownerSweep = new PeriodicRunner(
      async () => {
        const routed = await fallBackStaleOwnerRouting(db, clock());
        if (routed > 0)
          log('warn', `${routed} first text(s) waited too long for the CRM owner: routed without it`);
      },
      15_000,
      (error) => log('error', `owner routing sweep failed: ${String(error)}`),
    );
    this.runner = new CoalescingRunner(
      () => this.drain(),
      (error) => log('error', `CRM sync pass failed: ${String(error)}`),
    );
  }

  async start(): Promise<void> {
    this.unlisten = await this.options.db.listen(EVENTS_CHANNEL, () => this.wake());
    // Ledger inserts notify this channel (005_crm_sync.sql), so consent goes out at once.
    this.unlistenConsent = await this.options.db.listen(CRM_SYNC_CHANNEL, () => this.wake());
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.ownerSweep.start(false);
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.unlisten?.();
    await this.unlistenConsent?.();
    await this.ownerSweep.stop();
    await this.runner.stop();
  }

  wake(): void {
    this.runner.wake();
  }

  /** One pass over every connection this process can lease (tests and the CLI await it). */
  async drain(): Promise<void> {
    // Idle installations (no CRM connected) cost one query every ten seconds, not one per event.
    if (!this.hasConnections && performance.now() - this.connectionsSeenAt < 10_000) return;
    const any = await this.options.db.query(`SELECT 1 FROM crm_connections WHERE status = 'active' LIMIT 1`);
    this.hasConnections = any.length > 0;
    this.connectionsSeenAt = performance.now();
    if (!this.hasConnections) return;
    await this.jobs.releaseExpired();
    const visited: string[] = [];
    while (!this.runner.isStopped) {
      const connection = await this.leaseConnection(visited);
      if (connection === null) return;
      visited.push(connection.id);
      try {
        await this.work(connection);
      } catch (error) {
        if (!(error instanceof ConnectionHalt))
          this.options.log('error', `CRM sync of connection ${connection.id} failed: ${String(error)}`);
      } finally {
        await this.releaseConnection(connection);
      }
    }
  }

  /**
   * One pass over a single connection, if it is free and not paused (the CLI's backfill calls it
   * in a loop). Returns false when the connection could not be taken.
   */
  async drainConnection(connectionId: string): Promise<boolean> {
    const connection = await this.leaseConnection([], connectionId);
    if (connection === null) return false;
    try {
      await this.work(connection);
    } catch (error) {
      if (!(error instanceof ConnectionHalt)) throw error;
    } finally {
      await this.releaseConnection(connection);
    }
    return true;
  }

  /** Moves the connection's cursors over new events and consent changes, queueing their CRM writes. */
  async feed(connection: CrmConnection): Promise<void> {
    await feedConnection(this.options.db, this.jobs, connection, this.lingerMs);
  }

  /** Queues messages for logging (once per connection: a message already queued or done is skipped). */
  queueMessages(
    tx: Queryable,
    connection: CrmConnection,
    messageIds: string[],
    delayMs = 0,
  ): Promise<number> {
    return this.jobs.queueMessages(tx, connection, messageIds, delayMs);
  }

  private async leaseConnection(visited: string[], only?: string): Promise<CrmConnection | null> {
    const rows = await this.options.db.query<ConnectionRow>(
      `UPDATE crm_connections SET lease_until = now() + ($2::int * interval '1 millisecond'), lease_owner = $1
        WHERE id = (SELECT id FROM crm_connections
                     WHERE status = 'active' AND paused_until <= now()
                       AND (lease_until IS NULL OR lease_until < now())
                       AND NOT (id = ANY($3::uuid[])) AND ($4::uuid IS NULL OR id = $4)
                     ORDER BY updated_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${CONNECTION_COLUMNS}`,
      [this.workerId, this.leaseMs, visited, only ?? null],
    );
    return rows[0] === undefined ? null : toConnection(rows[0]);
  }

  private async releaseConnection(connection: CrmConnection): Promise<void> {
    await this.options.db.query(
      `UPDATE crm_connections SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_owner = $2`,
      [connection.id, this.workerId],
    );
  }

  private live(connection: CrmConnection): LivePlugin | null {
    const key = this.options.secretsKey;
    if (key === null) {
      if (!this.warnedNoKey)
        this.options.log('error', 'CRM connections exist but SECRETS_KEY is not set: CRM sync is stopped');
      this.warnedNoKey = true;
      return null;
    }
    return this.plugins.of(connection, key);
  }

  private async work(initial: CrmConnection): Promise<void> {
    let connection = initial;
    if (this.live(connection) === null) return;
    await this.feed(connection);
    /** Runs one CRM call; on an expired token refreshes once and repeats it. */
    const call: CrmCall = async (op) => {
      const current = this.live(connection);
      if (current === null) throw new ConnectionHalt('no secrets key');
      try {
        return await this.watchUsage(connection, current.plugin, await op(current.plugin));
      } catch (error) {
        if (!(error instanceof CrmAuthExpiredError)) throw error;
        connection = await this.reauthenticate(connection, current.secrets, error);
        const renewed = this.live(connection);
        if (renewed === null) throw new ConnectionHalt('no secrets key');
        return this.watchUsage(connection, renewed.plugin, await op(renewed.plugin));
      }
    };
    try {
      await this.consent.dispatch(connection, call);
      // A customer's first text waits in the unassigned queue until its owner is known.
      await this.owners.dispatch(connection, call, () => this.runner.isStopped);
      await this.consent.poll(connection, call);
      await this.messages.dispatch(connection, call, () => this.runner.isStopped);
      await this.payments.dispatch(connection, call, () => this.runner.isStopped);
      this.rateLimitStreak.delete(connection.id);
    } catch (error) {
      await this.halt(connection, error);
    }
  }

  /** Slows down before the CRM's limit: under 10 % of the window's quota left, pause for the window. */
  private async watchUsage<T>(connection: CrmConnection, plugin: CrmPlugin, value: T): Promise<T> {
    const usage = plugin.usage();
    if (usage !== null && usage.limit > 0 && usage.remaining < usage.limit * 0.1) {
      const pauseMs = Math.min(usage.windowMs, 300_000);
      await this.pause(connection.id, pauseMs);
      this.options.log(
        'warn',
        `CRM ${connection.crm} of org ${connection.orgId}: ${usage.remaining}/${usage.limit} requests left; pausing ${pauseMs} ms`,
      );
    }
    return value;
  }

  private async pause(connectionId: string, ms: number): Promise<void> {
    await this.options.db.query(
      `UPDATE crm_connections SET paused_until = greatest(paused_until, now() + ($2::int * interval '1 millisecond'))
        WHERE id = $1`,
      [connectionId, Math.ceil(ms)],
    );
  }

  private async reauthenticate(
    connection: CrmConnection,
    secrets: ConnectionSecrets,
    cause: CrmAuthExpiredError,
  ): Promise<CrmConnection> {
    const renewal = await renewConnection(this.options.db, this.options.secretsKey, connection, secrets, {
      cause,
      reconnectHint: 'reconnect with crm connect',
    });
    if ('refused' in renewal)
      throw new ConnectionHalt(renewal.refused === 'cannot-refresh' ? 'auth failed' : 'refresh failed');
    this.options.log('info', `CRM ${connection.crm} of org ${connection.orgId}: access token refreshed`);
    return renewal.connection;
  }

  /** What stops a connection's pass: a 429 pauses it, an admin-only problem flags it. */
  private async halt(connection: CrmConnection, error: unknown): Promise<void> {
    const { db } = this.options;
    await this.jobs.returnClaims(connection.id);
    if (error instanceof CrmRateLimitError) {
      const streak = (this.rateLimitStreak.get(connection.id) ?? 0) + 1;
      this.rateLimitStreak.set(connection.id, streak);
      const floor = Math.min(60_000, this.minRateLimitWaitMs * 2 ** (streak - 1));
      const waitMs = Math.max(error.retryAfterMs, floor);
      await this.pause(connection.id, waitMs);
      this.options.log(
        'warn',
        `CRM ${connection.crm} of org ${connection.orgId} throttled (${error.scope}); waiting ${waitMs} ms`,
      );
      return;
    }
    if (error instanceof CrmAuthExpiredError) {
      await setStatus(db, connection.id, 'auth_failed', `${error.message} (even after a token refresh)`);
      return;
    }
    if (error instanceof CrmError && ['forbidden', 'not_installed'].includes(error.code)) {
      await setStatus(db, connection.id, 'needs_attention', `${error.code}: ${error.message}`);
      this.options.log(
        'error',
        `CRM ${connection.crm} of org ${connection.orgId} needs an admin: ${error.message}`,
      );
      return;
    }
    if (error instanceof CrmError && error.retryable) {
      await this.pause(connection.id, this.retryBaseMs);
      this.options.log(
        'warn',
        `CRM ${connection.crm} of org ${connection.orgId} unavailable: ${error.message}`,
      );
      return;
    }
    throw error;
  }
}
