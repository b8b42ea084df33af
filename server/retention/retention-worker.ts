import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { orgsWithPolicy, runRetention } from './purge.ts';

export interface RetentionWorkerOptions {
  db: Database;
  /** The relay's clock: each org's cutoffs are judged by it. */
  clock: Clock;
  /** Time between runs (RETENTION_INTERVAL_MS, hourly by default). */
  intervalMs: number;
  /** Delay before the first run after start (a relay restarted often still purges). */
  firstRunMs?: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** How long one relay may hold the purge lease before another may take over (renewed per org). */
const LEASE_MS = 15 * 60_000;

/**
 * Runs every org's retention policy on a timer. Relays on one PostgreSQL take turns through the
 * `retention_lease` row (the database clock, as every lease), so two never purge together; a
 * crashed holder's lease runs out. Each org's run is bounded batches, so sends never wait long.
 */
export class RetentionWorker {
  readonly workerId = `${hostname()}:${process.pid}:retention:${Math.random().toString(36).slice(2, 8)}`;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: RetentionWorkerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.schedule(this.options.firstRunMs ?? Math.min(60_000, this.options.intervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce()
        .then(
          () => undefined,
          (error: unknown) => this.options.log('error', `retention run failed: ${String(error)}`),
        )
        .finally(() => {
          this.running = null;
          this.schedule(this.options.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** One pass over every org with a policy, if this relay holds the lease; returns the orgs run. */
  async runOnce(): Promise<string[]> {
    if (!(await this.takeLease())) return [];
    const done: string[] = [];
    try {
      for (const orgId of await orgsWithPolicy(this.options.db)) {
        if (this.stopped || !(await this.takeLease())) break;
        if (await this.runOrg(orgId)) done.push(orgId);
      }
    } finally {
      await this.options.db.query(
        'UPDATE retention_lease SET owner = NULL, lease_until = NULL WHERE id = 1 AND owner = $1',
        [this.workerId],
      );
    }
    return done;
  }

  /** One org's run; a failure is logged and the pass goes on to the next org (it is retried next pass). */
  private async runOrg(orgId: string): Promise<boolean> {
    try {
      const report = await runRetention(this.options.db, {
        orgId,
        now: this.options.clock(),
        dryRun: false,
        actor: 'system',
      });
      if (report.bodiesPurged + report.messagesDeleted + report.conversationsDeleted > 0)
        this.options.log(
          'info',
          `retention ${orgId}: ${report.bodiesPurged} bodies purged, ${report.messagesDeleted} messages and ${report.conversationsDeleted} conversations deleted, ${report.heldSkipped} held`,
        );
      return true;
    } catch (error) {
      this.options.log('error', `retention run of org ${orgId} failed: ${String(error)}`);
      return false;
    }
  }

  /** Takes or renews the one purge lease; false while another relay holds it. */
  private async takeLease(): Promise<boolean> {
    const rows = await this.options.db.query(
      `UPDATE retention_lease SET owner = $1, lease_until = now() + ($2::int * interval '1 millisecond')
        WHERE id = 1 AND (owner IS NULL OR owner = $1 OR lease_until < now()) RETURNING 1`,
      [this.workerId, LEASE_MS],
    );
    return rows.length > 0;
  }
}
