import { RelayError } from '../relay/relay-client.ts';
import type { AuthApi } from './auth-api.ts';
import type { IssuedTokens } from './auth-responses.ts';
import type { AuthSession, SessionStore } from './session.ts';
import type { KeptSession, SessionVault } from './session-vault.ts';

export type RefreshResult = { ok: true } | { ok: false; signedOut: boolean };

export interface TokenRefresherOptions {
  store: SessionStore;
  /** Builds the API for the session's relay. */
  api: (relayUrl: string) => Pick<AuthApi, 'refresh' | 'logout'>;
  /** Where a session the org lets outlive the browser is kept, sealed; without it, nothing is kept. */
  vault?: SessionVault;
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
    if (!session) return staleAccessToken === undefined ? this.resume() : { ok: false, signedOut: false };
    if (staleAccessToken !== undefined && session.accessToken !== staleAccessToken) return { ok: true };
    const tokens = await this.spend(session);
    if (tokens === 'unknown') return { ok: false, signedOut: false };
    if (tokens === 'refused') {
      const current = await this.options.store.get();
      if (current?.refreshToken === session.refreshToken) await this.endKept('expired');
      return { ok: false, signedOut: true };
    }
    // A sign-in (or sign-out) that happened meanwhile wins over this refresh.
    const current = await this.options.store.get();
    if (current?.refreshToken !== session.refreshToken)
      return current ? { ok: true } : { ok: false, signedOut: true };
    await this.store({ ...session, ...tokens });
    return { ok: true };
  }

  /**
   * After a browser restart (no session in `storage.session`): opens the kept session by spending its
   * refresh token at once, so the sealed token is used exactly once and replaced by the rotated one.
   */
  private async resume(): Promise<RefreshResult> {
    const kept = await this.options.vault?.open();
    if (!kept) return { ok: false, signedOut: false };
    const tokens = await this.spend(kept);
    // Relay unreachable: the token may be unspent, so it stays kept for the next try.
    if (tokens === 'unknown') return { ok: false, signedOut: false };
    if (tokens === 'refused' || !tokens.keepSignedIn) {
      // Refused (signed out elsewhere, timed out, deactivated), or the org now wants a sign-in in every
      // browser session: end the session just opened too, so nothing outlives this decision.
      if (tokens !== 'refused')
        await this.options
          .api(kept.relayUrl)
          .logout(tokens.accessToken)
          .catch((error: unknown) => console.warn('[crm-texting] could not end the resumed session', error));
      if (!(await this.options.store.get())) await this.endKept('expired');
      return { ok: false, signedOut: true };
    }
    // A sign-in that happened meanwhile wins; it is kept (or not) by its own policy.
    if (await this.options.store.get()) return { ok: true };
    await this.store({ ...kept, ...tokens });
    return { ok: true };
  }

  /** Trades the refresh token: new tokens, 'refused' by the relay, or 'unknown' (unreachable, 5xx). */
  private async spend(
    session: Pick<KeptSession, 'relayUrl' | 'refreshToken'>,
  ): Promise<IssuedTokens | 'refused' | 'unknown'> {
    try {
      return await this.options.api(session.relayUrl).refresh(session.refreshToken);
    } catch (error) {
      // Unreachable relay or a 5xx: the refresh token was not necessarily spent, keep the session.
      if (error instanceof RelayError && error.outcomeUnknown) return 'unknown';
      return 'refused';
    }
  }

  /**
   * Stores the session, sealing its new refresh token first when the org lets it be kept: a browser
   * closed in between then still holds the unspent token, never only the spent one.
   */
  private async store(session: AuthSession): Promise<void> {
    const vault = this.options.vault;
    if (vault && session.keepSignedIn)
      await vault.keep({
        relayUrl: session.relayUrl,
        email: session.email,
        refreshToken: session.refreshToken,
      });
    else await vault?.forget();
    await this.options.store.set(session);
  }

  /** Ends the session here: nothing kept, and the panel says why it signs in again. */
  private async endKept(reason: 'expired'): Promise<void> {
    await this.options.vault?.forget();
    await this.options.store.clear(reason);
  }

  /** Milliseconds until the background should refresh `session` on its own (0 = now). */
  delayFor(session: AuthSession): number {
    return Math.max(0, session.expiresAt - REFRESH_MARGIN_MS - this.now());
  }
}
