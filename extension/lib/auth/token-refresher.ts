import { RelayError } from '../relay/relay-client.ts';
import type { AuthApi } from './auth-api.ts';
import type { IssuedTokens } from './auth-responses.ts';
import type { AuthSession, SessionStore } from './session.ts';

export type RefreshResult = { ok: true } | { ok: false; signedOut: boolean };

export interface TokenRefresherOptions {
  store: SessionStore;
  /** Builds the API for the session's relay. */
  api: (relayUrl: string) => Pick<AuthApi, 'refresh'>;
  now?: () => number;
}

/** How long before expiry the background refreshes on its own. */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * Owned by the background worker: the only place refresh tokens are spent. At most one refresh runs at a
 * time, so two panels hitting 401 together never present the same (single-use) refresh token twice.
 */
export class TokenRefresher {
  private inFlight: Promise<RefreshResult> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: TokenRefresherOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Makes sure the stored access token is fresh. With `staleAccessToken` (the token a 401 came back
   * for), a session that already moved past that token counts as refreshed without another call.
   */
  refresh(staleAccessToken?: string): Promise<RefreshResult> {
    if (this.inFlight) return this.inFlight;
    const run = this.run(staleAccessToken).finally(() => {
      this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private async run(staleAccessToken: string | undefined): Promise<RefreshResult> {
    const session = await this.options.store.get();
    if (!session) return { ok: false, signedOut: false };
    if (staleAccessToken !== undefined && session.accessToken !== staleAccessToken) return { ok: true };
    let tokens: IssuedTokens;
    try {
      tokens = await this.options.api(session.relayUrl).refresh(session.refreshToken);
    } catch (error) {
      // Unreachable relay or a 5xx: the refresh token was not necessarily spent, keep the session.
      if (error instanceof RelayError && error.outcomeUnknown) return { ok: false, signedOut: false };
      const current = await this.options.store.get();
      if (current?.refreshToken === session.refreshToken) await this.options.store.clear('expired');
      return { ok: false, signedOut: true };
    }
    // A sign-in (or sign-out) that happened meanwhile wins over this refresh.
    const current = await this.options.store.get();
    if (current?.refreshToken !== session.refreshToken)
      return current ? { ok: true } : { ok: false, signedOut: true };
    await this.options.store.set({ ...session, ...tokens });
    return { ok: true };
  }

  /** Milliseconds until the background should refresh `session` on its own (0 = now). */
  delayFor(session: AuthSession): number {
    return Math.max(0, session.expiresAt - REFRESH_MARGIN_MS - this.now());
  }
}
