import type { SessionStore } from '../auth/session.ts';
import type { TokenRefresher } from '../auth/token-refresher.ts';

/**
 * Refreshes the session shortly before it expires. The timer covers a live worker; the alarm (which
 * wakes a suspended worker) covers the rest, and a 401 in a panel is the last resort. Without a
 * session (the browser restarted), the refresher opens a kept one at once, if the org lets it be kept.
 */
export class RefreshSchedule {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly refresher: TokenRefresher,
    private readonly store: SessionStore,
  ) {}

  /** Refreshes now, reporting a failure (the next alarm or a panel's 401 tries again). */
  refreshNow(): void {
    this.refresher.refresh().catch((error: unknown) => console.error('[crm-texting] refresh failed', error));
  }

  /** Replaces the pending refresh by one timed for the stored session, if there is one. */
  reschedule(): void {
    this.plan().catch((error: unknown) =>
      console.warn('[crm-texting] could not schedule the refresh', error),
    );
  }

  private async plan(): Promise<void> {
    clearTimeout(this.timer);
    const session = await this.store.get();
    if (!session) {
      this.refreshNow();
      return;
    }
    const delay = this.refresher.delayFor(session);
    if (delay === 0) this.refreshNow();
    else this.timer = setTimeout(() => this.refreshNow(), delay);
  }
}
