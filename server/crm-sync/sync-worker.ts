import { hostname } from 'node:os';
import {
  CrmAuthExpiredError,
  CrmError,
  CrmNotFoundError,
  CrmRateLimitError,
} from '../../crm-plugins/errors.ts';
import type {
  AppendResult,
  ContactRef,
  CrmMessage,
  CrmMessageStatus,
  CrmPlugin,
  UpdateResult,
} from '../../crm-plugins/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import type { Database, Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { EVENTS_CHANNEL } from '../live/events.ts';
import { currentConsent } from '../stores/consent-store.ts';
import {
  CONNECTION_COLUMNS,
  type ConnectionRow,
  type ConnectionSecrets,
  type CrmConnection,
  createPlugin,
  openSecrets,
  setStatus,
  toConnection,
} from './connections.ts';
import { knownPhonesOf, recordCrmOptOut } from './crm-optout.ts';
import { renewConnection } from './oauth.ts';

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
  pluginFor?: (connection: CrmConnection, secrets: ConnectionSecrets) => CrmPlugin;
  /** The relay's clock (server/clock.ts): when a CRM-side opt-out is recorded in the ledger. */
  clock?: Clock;
}

interface JobRow {
  id: number;
  kind: 'message' | 'consent' | 'crm_optout';
  subject: string;
  attempts: number;
}

interface MessageInfo {
  id: string;
  direction: 'inbound' | 'outbound';
  body: string;
  status: string;
  created_at: Date;
  from_e164: string;
  to_e164: string;
  crm: string | null;
  crm_object: 'contact' | 'lead' | null;
  crm_id: string | null;
  unknown_inbound: string | null;
}

/** The plugin of a connection as of a version of its tokens. */
interface LivePlugin {
  version: number;
  plugin: CrmPlugin;
  secrets: ConnectionSecrets;
}

/** Stops a connection's pass: the CRM asked us to wait, or needs an admin. */
class ConnectionHalt extends Error {}

/** Notified by a trigger on consent_events. */
export const CRM_SYNC_CHANNEL = 'crm_sync';
const SETTLED = `tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`;
const LOG_PAGE = 1000;
/** Messages the relay has handed over (or received): what the CRM timeline shows. */
const LOGGED_OUTBOUND = new Set(['sent', 'delivered', 'undelivered', 'failed']);
/** Outcomes that, when they arrive after the entry was logged, are written back onto it. */
const FINAL_STATUSES = new Set(['delivered', 'undelivered', 'failed']);
/** A status job's subject: `<message id>#<status>` (once per message and status). */
const STATUS_SEP = '#';
/** A "no CRM record has this number" answer is trusted this long before asking again. */
const NEGATIVE_LOOKUP_MS = 3600_000;

/**
 * Keeps each connected CRM in step with the relay. Design (issue #6):
 *
 *   events ─────────┐  per-connection (tx_id, id) cursors, commit-safe (see 005_crm_sync.sql)
 *   consent_events ─┴─▶ crm_sync_jobs (durable queue) ─▶ plugin.appendMessages / projectConsent
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
  private readonly pollMs: number;
  private readonly consentPollMs: number;
  private readonly lingerMs: number;
  private readonly leaseMs: number;
  private readonly maxBatch: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly minRateLimitWaitMs: number;
  private readonly runner: CoalescingRunner;
  private readonly plugins = new Map<string, LivePlugin>();
  private readonly rateLimitStreak = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private unlistenConsent: (() => Promise<void>) | null = null;
  private connectionsSeenAt = Number.NEGATIVE_INFINITY;
  private hasConnections = true;
  private warnedNoKey = false;
  private readonly clock: Clock;

  constructor(private readonly options: CrmSyncWorkerOptions) {
    this.clock = options.clock ?? systemClock;
    this.pollMs = options.pollMs ?? 1000;
    this.consentPollMs = options.consentPollMs ?? 30_000;
    this.lingerMs = options.lingerMs ?? 500;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.minRateLimitWaitMs = options.minRateLimitWaitMs ?? 250;
    this.runner = new CoalescingRunner(
      () => this.drain(),
      (error) => this.options.log('error', `CRM sync pass failed: ${String(error)}`),
    );
  }

  async start(): Promise<void> {
    this.unlisten = await this.options.db.listen(EVENTS_CHANNEL, () => this.wake());
    // Ledger inserts notify this channel (005_crm_sync.sql), so consent goes out at once.
    this.unlistenConsent = await this.options.db.listen(CRM_SYNC_CHANNEL, () => this.wake());
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.unlisten?.();
    await this.unlistenConsent?.();
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
    await this.options.db.query(
      `UPDATE crm_sync_jobs SET state = 'queued', lease_until = NULL, updated_at = now()
        WHERE state = 'working' AND lease_until < now()`,
    );
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
        await this.options.db.query(
          `UPDATE crm_connections SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_owner = $2`,
          [connection.id, this.workerId],
        );
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
      await this.options.db.query(
        `UPDATE crm_connections SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_owner = $2`,
        [connection.id, this.workerId],
      );
    }
    return true;
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

  private live(connection: CrmConnection): LivePlugin | null {
    const key = this.options.secretsKey;
    if (key === null) {
      if (!this.warnedNoKey)
        this.options.log('error', 'CRM connections exist but SECRETS_KEY is not set: CRM sync is stopped');
      this.warnedNoKey = true;
      return null;
    }
    const version = connection.updatedAt.getTime();
    const cached = this.plugins.get(connection.id);
    if (cached !== undefined && cached.version >= version) return cached;
    const secrets = openSecrets(key, connection);
    const plugin = (this.options.pluginFor ?? createPlugin)(connection, secrets);
    const fresh = { version, plugin, secrets };
    this.plugins.set(connection.id, fresh);
    return fresh;
  }

  private async work(initial: CrmConnection): Promise<void> {
    let connection = initial;
    if (this.live(connection) === null) return;
    await this.feed(connection);
    /** Runs one CRM call; on an expired token refreshes once and repeats it. */
    const call = async <T>(op: (plugin: CrmPlugin) => Promise<T>): Promise<T> => {
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
      await this.dispatchConsent(connection, call);
      await this.pollCrmConsent(connection, call);
      await this.dispatchMessages(connection, call);
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
    // Whatever this pass had claimed goes back without counting as an attempt.
    await db.query(
      `UPDATE crm_sync_jobs SET state = 'queued', attempts = greatest(0, attempts - 1), lease_until = NULL, updated_at = now()
        WHERE connection_id = $1 AND state = 'working' AND claimed_by = $2`,
      [connection.id, this.workerId],
    );
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

  // ------------------------------------------------------------------------------------------
  // Feeding: the two logs → crm_sync_jobs
  // ------------------------------------------------------------------------------------------

  /** Moves the connection's cursors over new events and consent changes, queueing their CRM writes. */
  async feed(connection: CrmConnection): Promise<void> {
    const { db } = this.options;
    for (;;) {
      const moved = await db.transaction(async (tx) => {
        const [cursor] = await tx.query<{ tx: number; id: number }>(
          `SELECT event_cursor_tx AS tx, event_cursor_id AS id FROM crm_connections WHERE id = $1`,
          [connection.id],
        );
        if (cursor === undefined) return 0;
        const rows = await tx.query<{ id: number; tx_id: number; type: string; payload: unknown }>(
          `SELECT id, tx_id, type, payload FROM events
            WHERE org_id = $1 AND (tx_id, id) > ($2, $3) AND ${SETTLED}
            ORDER BY tx_id, id LIMIT ${LOG_PAGE}`,
          [connection.orgId, cursor.tx, cursor.id],
        );
        const last = rows.at(-1);
        if (last === undefined) return 0;
        const statusSubjects: string[] = [];
        const ids = rows.flatMap((r) => {
          const m = (r.payload as { message?: { id?: unknown; direction?: unknown; status?: unknown } })
            ?.message;
          if (m === undefined || typeof m.id !== 'string') return [];
          const loggable =
            (m.direction === 'inbound' && r.type === 'message.created') ||
            (m.direction === 'outbound' && LOGGED_OUTBOUND.has(String(m.status)));
          if (
            m.direction === 'outbound' &&
            r.type === 'message.updated' &&
            FINAL_STATUSES.has(String(m.status))
          )
            statusSubjects.push(`${m.id}${STATUS_SEP}${String(m.status)}`);
          return loggable ? [m.id] : [];
        });
        await this.queueMessages(tx, connection, ids, this.lingerMs);
        // A status job for a message not logged yet finds its log job queued and just finishes.
        await this.queueMessages(tx, connection, statusSubjects, this.lingerMs);
        await tx.query(
          `UPDATE crm_connections SET event_cursor_tx = $2, event_cursor_id = $3 WHERE id = $1`,
          [connection.id, last.tx_id, last.id],
        );
        return rows.length;
      });
      if (moved < LOG_PAGE) break;
    }
    for (;;) {
      const moved = await db.transaction(async (tx) => {
        const [cursor] = await tx.query<{ tx: number; id: number }>(
          `SELECT consent_cursor_tx AS tx, consent_cursor_id AS id FROM crm_connections WHERE id = $1`,
          [connection.id],
        );
        if (cursor === undefined) return 0;
        const rows = await tx.query<{ id: number; tx_id: number; phone_e164: string }>(
          `SELECT id, tx_id, phone_e164 FROM consent_events
            WHERE org_id = $1 AND (tx_id, id) > ($2, $3) AND ${SETTLED}
            ORDER BY tx_id, id LIMIT ${LOG_PAGE}`,
          [connection.orgId, cursor.tx, cursor.id],
        );
        const last = rows.at(-1);
        if (last === undefined) return 0;
        await tx.query(
          `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject)
           SELECT $1, $2, 'consent', phone FROM unnest($3::text[]) AS phone
           ON CONFLICT (connection_id, kind, subject) WHERE kind IN ('consent', 'crm_optout') AND state = 'queued'
           DO NOTHING`,
          [connection.id, connection.orgId, [...new Set(rows.map((r) => r.phone_e164))]],
        );
        await tx.query(
          `UPDATE crm_connections SET consent_cursor_tx = $2, consent_cursor_id = $3 WHERE id = $1`,
          [connection.id, last.tx_id, last.id],
        );
        return rows.length;
      });
      if (moved < LOG_PAGE) break;
    }
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

  // ------------------------------------------------------------------------------------------
  // Dispatch
  // ------------------------------------------------------------------------------------------

  private async claim(connection: CrmConnection, kinds: JobRow['kind'][], limit: number): Promise<JobRow[]> {
    return this.options.db.query<JobRow>(
      `UPDATE crm_sync_jobs SET state = 'working', attempts = attempts + 1, claimed_by = $1,
              lease_until = now() + ($2::int * interval '1 millisecond'), updated_at = now()
        WHERE id IN (SELECT id FROM crm_sync_jobs
                      WHERE connection_id = $3 AND kind = ANY($4::text[]) AND state = 'queued' AND available_at <= now()
                      ORDER BY available_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, subject, attempts`,
      [this.workerId, this.leaseMs, connection.id, kinds, limit],
    );
  }

  private async finish(ids: number[], note: string | null = null): Promise<void> {
    if (ids.length === 0) return;
    await this.options.db.query(
      `UPDATE crm_sync_jobs SET state = 'done', lease_until = NULL, note = $2, updated_at = now() WHERE id = ANY($1::bigint[])`,
      [ids, note],
    );
  }

  /** A failed job: again later (exponential backoff) or, when permanent or out of attempts, a dead letter. */
  private async failJob(
    connection: CrmConnection,
    job: JobRow,
    failure: { code: string; message: string; retryable: boolean },
  ): Promise<void> {
    const { db } = this.options;
    if (failure.retryable && job.attempts < this.maxAttempts) {
      const ceiling = Math.min(300_000, this.retryBaseMs * 2 ** (job.attempts - 1));
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

  /** Per-item CRM errors (a record gone, a value refused) fail the item; anything else stops the pass. */
  private itemFailure(error: unknown): { code: string; message: string; retryable: boolean } | null {
    if (error instanceof CrmRateLimitError || error instanceof CrmAuthExpiredError) return null;
    if (!(error instanceof CrmError)) return null;
    if (['forbidden', 'not_installed'].includes(error.code)) return null;
    return { code: error.code, message: error.message, retryable: error.retryable };
  }

  private async dispatchConsent(connection: CrmConnection, call: Call): Promise<void> {
    for (;;) {
      const jobs = await this.claim(connection, ['consent', 'crm_optout'], 50);
      if (jobs.length === 0) return;
      for (const job of jobs) {
        try {
          const note =
            job.kind === 'consent'
              ? await this.projectPhone(connection, call, job.subject)
              : await this.importCrmOptOut(connection, call, job.subject);
          await this.finish([job.id], note);
        } catch (error) {
          const failure = this.itemFailure(error);
          if (failure === null) throw error;
          await this.failJob(connection, job, failure);
        }
      }
    }
  }

  /** Projects a phone's derived consent onto every CRM record with that number. */
  private async projectPhone(connection: CrmConnection, call: Call, phone: string): Promise<string | null> {
    const consent = await currentConsent(this.options.db, connection.orgId, phone);
    if (consent.status === 'unknown') return 'no consent recorded';
    const refs = await this.refsForPhone(connection, call, phone);
    if (refs.length === 0) return 'no CRM record has this number';
    for (const ref of refs) {
      try {
        await call((p) =>
          p.projectConsent(ref, {
            status: consent.status,
            updatedAt: consent.since ?? this.clock(),
            source: consent.source ?? 'relay',
          }),
        );
      } catch (error) {
        if (!(error instanceof CrmNotFoundError)) throw error;
        await this.forgetRef(connection, ref);
      }
    }
    return null;
  }

  /** A CRM-side opt-out (HubSpot webhook) on a record the relay did not know: look it up, then record it. */
  private async importCrmOptOut(
    connection: CrmConnection,
    call: Call,
    subject: string,
  ): Promise<string | null> {
    const [objectType, id] = subject.split(':', 2) as [string, string | undefined];
    if ((objectType !== 'contact' && objectType !== 'lead') || id === undefined) return 'malformed subject';
    const ref: ContactRef = { crm: connection.crm, objectType, id };
    const contact = await call((p) => p.findContactById(ref));
    if (contact === null || contact.phones.length === 0) return 'record gone or without a number';
    await this.rememberRefs(connection, contact.phones, [ref]);
    await recordCrmOptOut(this.options.db, {
      orgId: connection.orgId,
      ref,
      phones: contact.phones,
      changedAt: this.clock(),
      now: this.clock(),
      via: 'webhook',
    });
    return null;
  }

  /** Asks the CRM for consent edited there and records the opt-outs among them. */
  private async pollCrmConsent(connection: CrmConnection, call: Call): Promise<void> {
    const { db } = this.options;
    const due = await db.query(`SELECT 1 FROM crm_connections WHERE id = $1 AND next_poll_at <= now()`, [
      connection.id,
    ]);
    if (due.length === 0) return;
    const [row] = await db.query<{ crm_watermark: string | null }>(
      `SELECT crm_watermark FROM crm_connections WHERE id = $1`,
      [connection.id],
    );
    const page = await call((p) => p.readConsentChanges(row?.crm_watermark ?? null));
    for (const change of page.changes) {
      // Only opt-outs flow back: a CRM field saying "opted in" is no evidence of consent.
      if (change.status !== 'opted_out') continue;
      let phones = await knownPhonesOf(db, {
        orgId: connection.orgId,
        connectionId: connection.id,
        ref: change.ref,
      });
      if (phones.length === 0) {
        const contact = await call((p) => p.findContactById(change.ref));
        phones = contact?.phones ?? [];
        if (phones.length > 0) await this.rememberRefs(connection, phones, [change.ref]);
      }
      const recorded = await recordCrmOptOut(db, {
        orgId: connection.orgId,
        ref: change.ref,
        phones,
        changedAt: change.changedAt,
        now: this.clock(),
        via: 'poll',
      });
      if (recorded.length > 0)
        this.options.log(
          'info',
          `CRM ${connection.crm} opt-out of ${change.ref.id} recorded for ${recorded.length} number(s)`,
        );
    }
    await db.query(
      `UPDATE crm_connections SET crm_watermark = coalesce($2, crm_watermark),
              next_poll_at = now() + ($3::int * interval '1 millisecond') WHERE id = $1`,
      [connection.id, page.watermark, this.consentPollMs],
    );
  }

  private async dispatchMessages(connection: CrmConnection, call: Call): Promise<void> {
    // A bounded number of rounds per lease, so other connections get their turn.
    for (let round = 0; round < 20 && !this.runner.isStopped; round++) {
      const jobs = await this.claim(connection, ['message'], this.maxBatch);
      if (jobs.length === 0) return;
      await this.logMessages(connection, call, jobs);
    }
  }

  private async logMessages(connection: CrmConnection, call: Call, claimed: JobRow[]): Promise<void> {
    const jobs = claimed.filter((j) => !j.subject.includes(STATUS_SEP));
    const statusJobs = claimed.filter((j) => j.subject.includes(STATUS_SEP));
    if (jobs.length > 0) await this.appendLogged(connection, call, jobs);
    if (statusJobs.length > 0) await this.updateStatuses(connection, call, statusJobs, jobs);
  }

  /**
   * Writes later delivery outcomes onto entries already logged. A message whose log job is still
   * queued (or ran in this same claim) gets its current status with the entry; one being logged
   * by another process is tried again shortly; one never logged has nothing to update.
   */
  private async updateStatuses(
    connection: CrmConnection,
    call: Call,
    statusJobs: JobRow[],
    logJobsNow: JobRow[],
  ): Promise<void> {
    const { db } = this.options;
    const idOf = (job: JobRow) => job.subject.slice(0, job.subject.indexOf(STATUS_SEP));
    const loggedNow = new Set(logJobsNow.map((j) => j.subject));
    const logRows = await db.query<{ subject: string; state: string; note: string | null }>(
      `SELECT subject, state, note FROM crm_sync_jobs WHERE connection_id = $1 AND kind = 'message' AND subject = ANY($2::text[])`,
      [connection.id, statusJobs.map(idOf)],
    );
    const logOf = new Map(logRows.map((r) => [r.subject, r]));
    const covered: number[] = [];
    const nothing: number[] = [];
    const later: number[] = [];
    const pending: JobRow[] = [];
    for (const job of statusJobs) {
      const id = idOf(job);
      const log = logOf.get(id);
      if (loggedNow.has(id) || log?.state === 'queued') covered.push(job.id);
      else if (log?.state === 'working') later.push(job.id);
      else if (log === undefined || log.state !== 'done' || log.note !== null) nothing.push(job.id);
      else pending.push(job);
    }
    await this.finish(covered, 'status logged with the entry');
    await this.finish(nothing, 'not on the CRM timeline');
    if (later.length > 0)
      await db.query(
        `UPDATE crm_sync_jobs SET state = 'queued', lease_until = NULL, available_at = now() + interval '1 second',
                updated_at = now() WHERE id = ANY($1::bigint[])`,
        [later],
      );
    if (pending.length === 0) return;
    const messages = await this.toCrmMessages(connection, call, pending, idOf);
    const jobOf = new Map<string, JobRow>();
    for (const job of pending) jobOf.set(idOf(job), job);
    await this.finish(
      pending.filter((j) => !messages.some((m) => m.externalKey === idOf(j))).map((j) => j.id),
      'not on the CRM timeline',
    );
    if (messages.length === 0) return;
    const result: UpdateResult = await call((p) => p.updateMessages(messages));
    await this.finish(
      result.updated.flatMap((key) => {
        const job = jobOf.get(key);
        return job === undefined ? [] : [job.id];
      }),
    );
    await this.finish(
      result.notLogged.flatMap((key) => {
        const job = jobOf.get(key);
        return job === undefined ? [] : [job.id];
      }),
      'not on the CRM timeline',
    );
    for (const failure of result.failed) {
      const job = jobOf.get(failure.externalKey);
      if (job !== undefined) await this.failJob(connection, job, failure);
    }
  }

  /** The messages of status jobs as timeline entries, on the records they were logged on. */
  private async toCrmMessages(
    connection: CrmConnection,
    call: Call,
    jobs: JobRow[],
    idOf: (job: JobRow) => string,
  ): Promise<CrmMessage[]> {
    const rows = await this.options.db.query<MessageInfo>(
      `SELECT m.id, m.direction, m.body, m.status, m.created_at, m.from_e164, m.to_e164,
              c.crm, c.crm_object, c.crm_id, NULL AS unknown_inbound
         FROM messages m JOIN conversations v ON v.id = m.conversation_id
         LEFT JOIN contacts c ON c.id = v.contact_id
        WHERE m.id = ANY($1::uuid[]) AND m.org_id = $2`,
      [jobs.map(idOf), connection.orgId],
    );
    const out: CrmMessage[] = [];
    for (const m of rows) {
      const phone = m.direction === 'inbound' ? m.from_e164 : m.to_e164;
      const ref: ContactRef | null =
        m.crm === connection.crm && m.crm_object !== null && m.crm_id !== null
          ? { crm: connection.crm, objectType: m.crm_object, id: m.crm_id }
          : ((await this.refsForPhone(connection, call, phone))[0] ?? null);
      if (ref === null) continue;
      out.push({
        externalKey: m.id,
        contact: ref,
        direction: m.direction,
        body: m.body,
        occurredAt: m.created_at,
        customerPhone: phone,
        status: messageStatus(m),
      });
    }
    return out;
  }

  private async appendLogged(connection: CrmConnection, call: Call, jobs: JobRow[]): Promise<void> {
    const { db } = this.options;
    const rows = await db.query<MessageInfo>(
      `SELECT m.id, m.direction, m.body, m.status, m.created_at, m.from_e164, m.to_e164,
              c.crm, c.crm_object, c.crm_id, o.settings #>> '{crm,unknownInbound}' AS unknown_inbound
         FROM messages m JOIN conversations v ON v.id = m.conversation_id
         LEFT JOIN contacts c ON c.id = v.contact_id JOIN orgs o ON o.id = m.org_id
        WHERE m.id = ANY($1::uuid[]) AND m.org_id = $2`,
      [jobs.map((j) => j.subject), connection.orgId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const skipped: number[] = [];
    const batch: CrmMessage[] = [];
    const jobOf = new Map<string, JobRow>();
    const refOfPhone = new Map<string, ContactRef | null>();
    for (const job of jobs) {
      const m = byId.get(job.subject);
      if (m === undefined) {
        skipped.push(job.id);
        continue;
      }
      const phone = m.direction === 'inbound' ? m.from_e164 : m.to_e164;
      let ref: ContactRef | null =
        m.crm === connection.crm && m.crm_object !== null && m.crm_id !== null
          ? { crm: connection.crm, objectType: m.crm_object, id: m.crm_id }
          : null;
      if (ref === null) {
        if (!refOfPhone.has(phone)) {
          const found = (await this.refsForPhone(connection, call, phone))[0] ?? null;
          refOfPhone.set(phone, found);
        }
        ref = refOfPhone.get(phone) ?? null;
        if (ref === null && m.direction === 'inbound' && m.unknown_inbound === 'create') {
          const created = await call((p) => p.createContact({ phoneE164: phone, name: null }));
          await this.rememberRefs(connection, [phone], [created.ref]);
          ref = created.ref;
          refOfPhone.set(phone, ref);
          this.options.log(
            'info',
            `CRM ${connection.crm}: created ${created.ref.objectType} ${created.ref.id} for an unknown inbound number`,
          );
        }
      }
      if (ref === null) {
        skipped.push(job.id);
        continue;
      }
      jobOf.set(m.id, job);
      batch.push({
        externalKey: m.id,
        contact: ref,
        direction: m.direction,
        body: m.body,
        occurredAt: m.created_at,
        customerPhone: phone,
        status: messageStatus(m),
      });
    }
    await this.finish(skipped, 'no CRM record to log on');
    if (batch.length === 0) return;
    const result: AppendResult = await call((p) => p.appendMessages(batch));
    await this.finish(
      [...result.created, ...result.alreadyLogged].flatMap((key) => {
        const job = jobOf.get(key);
        return job === undefined ? [] : [job.id];
      }),
    );
    for (const failure of result.failed) {
      const job = jobOf.get(failure.externalKey);
      if (job !== undefined) await this.failJob(connection, job, failure);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Phone → CRM record
  // ------------------------------------------------------------------------------------------

  /** The CRM records of a number: ones the relay already links, else a lookup (remembered, also when empty). */
  private async refsForPhone(connection: CrmConnection, call: Call, phone: string): Promise<ContactRef[]> {
    const { db } = this.options;
    const local = await db.query<{ crm_object: 'contact' | 'lead'; crm_id: string }>(
      `SELECT crm_object, crm_id FROM contacts WHERE org_id = $1 AND crm = $2 AND phone_e164 = $3 AND crm_id IS NOT NULL`,
      [connection.orgId, connection.crm, phone],
    );
    if (local.length > 0)
      return local.map((r) => ({ crm: connection.crm, objectType: r.crm_object, id: r.crm_id }));
    const links = await db.query<{ object_type: string; ref_id: string; fresh: boolean }>(
      `SELECT object_type, ref_id, checked_at > now() - ($3::int * interval '1 millisecond') AS fresh
         FROM crm_contact_links WHERE connection_id = $1 AND phone_e164 = $2`,
      [connection.id, phone, NEGATIVE_LOOKUP_MS],
    );
    const known = links.filter((l) => l.ref_id !== '');
    if (known.length > 0)
      return known.map((l) => ({
        crm: connection.crm,
        objectType: l.object_type as 'contact' | 'lead',
        id: l.ref_id,
      }));
    if (links.some((l) => l.fresh)) return [];
    const found = await call((p) => p.findContactsByPhone(phone));
    const refs = found.map((c) => c.ref);
    await db.query(`DELETE FROM crm_contact_links WHERE connection_id = $1 AND phone_e164 = $2`, [
      connection.id,
      phone,
    ]);
    if (refs.length === 0) {
      await db.query(
        `INSERT INTO crm_contact_links (connection_id, phone_e164) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [connection.id, phone],
      );
    } else await this.rememberRefs(connection, [phone], refs);
    return refs;
  }

  private async rememberRefs(
    connection: CrmConnection,
    phones: readonly string[],
    refs: readonly ContactRef[],
  ) {
    for (const phone of phones) {
      await this.options.db.query(
        `DELETE FROM crm_contact_links WHERE connection_id = $1 AND phone_e164 = $2 AND ref_id = ''`,
        [connection.id, phone],
      );
      for (const ref of refs) {
        await this.options.db.query(
          `INSERT INTO crm_contact_links (connection_id, phone_e164, object_type, ref_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (connection_id, phone_e164, object_type, ref_id) DO UPDATE SET checked_at = now()`,
          [connection.id, phone, ref.objectType, ref.id],
        );
      }
    }
  }

  private async forgetRef(connection: CrmConnection, ref: ContactRef): Promise<void> {
    await this.options.db.query(
      `DELETE FROM crm_contact_links WHERE connection_id = $1 AND object_type = $2 AND ref_id = $3`,
      [connection.id, ref.objectType, ref.id],
    );
  }
}

/** The delivery status an outbound entry shows (null for inbound, or before the hand-over). */
function messageStatus(m: MessageInfo): CrmMessageStatus | null {
  if (m.direction !== 'outbound') return null;
  return ['sent', 'delivered', 'undelivered', 'failed'].includes(m.status)
    ? (m.status as CrmMessageStatus)
    : null;
}

type Call = <T>(op: (plugin: CrmPlugin) => Promise<T>) => Promise<T>;
