import type { Database } from '../db/database.ts';
import { EVENTS_CHANNEL } from './events.ts';

/**
 * Announces new outbox work and live events after a write has committed. Listeners in this
 * process are woken at once; other relay processes get one coalesced NOTIFY per short window
 * instead of one per message, because PostgreSQL serialises the commits of notifying
 * transactions and that would cap the send rate at one commit flush at a time.
 */
export class Notifier {
  private readonly local = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly options: { windowMs?: number; log?: (message: string) => void } = {},
  ) {}

  /** Wakes fn in this process on every announcement. */
  onAnnounce(fn: () => void): () => void {
    this.local.add(fn);
    return () => this.local.delete(fn);
  }

  announce(): void {
    for (const fn of this.local) fn();
    // A single embedded database has no other process to tell.
    if (this.db.kind === 'pglite' || this.closed || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing = this.db
        .query(`SELECT pg_notify('outbox', ''), pg_notify('${EVENTS_CHANNEL}', '')`)
        .then(
          () => undefined,
          (error: unknown) => this.options.log?.(`notify failed: ${String(error)}`),
        )
        .finally(() => {
          this.flushing = null;
        });
    }, this.options.windowMs ?? 5);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      await this.db.query(`SELECT pg_notify('outbox', ''), pg_notify('${EVENTS_CHANNEL}', '')`).then(
        () => undefined,
        (error: unknown) => this.options.log?.(`final notify failed: ${String(error)}`),
      );
    }
    await this.flushing;
  }
}
