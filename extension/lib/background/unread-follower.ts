import { type RelayClient, RelayError } from '../relay/relay-client.ts';
import { showUnreadBadge } from '../unread-badge.ts';

/** Changes arriving together ask the relay once. */
const DELAY_MS = 500;

/**
 * Keeps the extension icon's badge at the signed-in person's unread count: asked again when the
 * live stream opens and on each reply or routing/read change; cleared when the identity goes.
 */
export class UnreadFollower {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: RelayClient,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => {
      if (this.timer !== null) clearTimeout(this.timer);
      showUnreadBadge(0);
    });
  }

  /** Reads the count again shortly. */
  soon(): void {
    if (this.signal.aborted || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.client
        .inbox({ filter: 'mine', limit: 1 }, this.signal)
        .then((page) => showUnreadBadge(page.unreadCount))
        .catch((error: unknown) => {
          if (this.signal.aborted) return;
          // An API key of no user has no inbox of its own: no badge rather than a wrong one.
          if (error instanceof RelayError && error.code === 'USER_REQUIRED') showUnreadBadge(0);
          else console.warn('[crm-texting] could not read the unread count', error);
        });
    }, DELAY_MS);
  }
}
