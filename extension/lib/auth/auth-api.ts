import { callRelay, type FetchLike, RelayError } from '../relay/relay-client.ts';
import {
  type IssuedTokens,
  type LoginOutcome,
  parseIssuedTokens,
  parseLoginOutcome,
  parseSsoExchange,
  parseSsoLinked,
  type SsoExchange,
  type SsoLinked,
} from './auth-responses.ts';

/** The relay's sign-in endpoints (no token needed except for logout). */
export class AuthApi {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
  ) {}

  login(email: string, password: string): Promise<LoginOutcome> {
    return callRelay(this.fetchImpl, this.baseUrl, 'POST', '/v1/auth/login', parseLoginOutcome, {
      body: { email, password },
    });
  }

  /** `code` is either the 6-digit authenticator code or a recovery code; the shape decides which. */
  secondFactor(mfaToken: string, code: string): Promise<IssuedTokens> {
    const trimmed = code.replace(/\s+/g, '');
    const body = /^[0-9]{6}$/.test(trimmed)
      ? { mfaToken, code: trimmed }
      : { mfaToken, recoveryCode: code.trim() };
    return callRelay(this.fetchImpl, this.baseUrl, 'POST', '/v1/auth/mfa', parseIssuedTokens, { body });
  }

  refresh(refreshToken: string): Promise<IssuedTokens> {
    return callRelay(this.fetchImpl, this.baseUrl, 'POST', '/v1/auth/refresh', parseIssuedTokens, {
      body: { refreshToken },
    });
  }

  /** Trades the one-time code from the relay's SSO "done" page for a session (single use). */
  exchange(code: string): Promise<SsoExchange> {
    return callRelay(this.fetchImpl, this.baseUrl, 'POST', '/v1/sso/saml/exchange', parseSsoExchange, {
      body: { code },
    });
  }

  /**
   * Links the account the identity provider named to it, proven with the account's own password (and
   * authenticator code when it has one). Signs nothing in: the next SSO sign-in does.
   */
  linkSso(linkToken: string, password: string, code?: string): Promise<SsoLinked> {
    return callRelay(this.fetchImpl, this.baseUrl, 'POST', '/v1/sso/saml/link', parseSsoLinked, {
      body: code === undefined ? { linkToken, password } : { linkToken, password, code },
    });
  }

  async logout(accessToken: string): Promise<void> {
    await callRelay(this.fetchImpl, this.baseUrl, 'POST', '/v1/auth/logout', () => undefined, {
      token: accessToken,
    });
  }

  /**
   * Ends the session on the relay, even when its access token has lapsed meanwhile (a laptop woken
   * after the token's 15 minutes): the refresh token, still valid, buys one more access token to sign
   * out with, so the session (and any copy of its refresh token) dies on the relay and not only here.
   * A refresh token the relay refuses means the session already ended there. Throws what the relay
   * could not be asked (unreachable, 5xx), for the caller to decide.
   */
  async signOut(session: { accessToken: string; refreshToken: string }): Promise<void> {
    try {
      await this.logout(session.accessToken);
      return;
    } catch (error) {
      if (!(error instanceof RelayError) || error.status !== 401) throw error;
    }
    let fresh: IssuedTokens;
    try {
      fresh = await this.refresh(session.refreshToken);
    } catch (error) {
      if (error instanceof RelayError && !error.outcomeUnknown) return;
      throw error;
    }
    await this.logout(fresh.accessToken);
  }
}
