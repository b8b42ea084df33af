import { callRelay, type FetchLike, RelayError } from './relay/relay-client.ts';
import { ShapeError } from './validate.ts';

/**
 * A signed-in session as kept in `browser.storage.session` (never on disk). Bound to the relay it was
 * issued by, so changing the relay URL does not send these tokens elsewhere.
 */
export interface AuthSession {
  relayUrl: string;
  email: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Where the session lives; the browser implementation is in `settings.ts`, tests use memory. */
export interface SessionStore {
  get(): Promise<AuthSession | null>;
  set(session: AuthSession): Promise<void>;
  /** Removes the session; 'expired' (refresh refused) also leaves a note so the panel says why. */
  clear(reason: 'signed-out' | 'expired'): Promise<void>;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

export type LoginOutcome = { kind: 'tokens'; tokens: IssuedTokens } | { kind: 'mfa'; mfaToken: string };

/** The SSO code exchange's answer: the usual tokens, plus the account's email when the relay sends it. */
export interface SsoTokens extends IssuedTokens {
  email: string | null;
}

/** The exchange's answer: a session, or (account with a second factor) the step that still needs it. */
export type SsoExchange =
  | { kind: 'tokens'; tokens: SsoTokens }
  | { kind: 'mfa'; mfaToken: string; factors: string[]; email: string | null };

/** What `POST /v1/sso/saml/link` answers: linked, not signed in (the next SSO sign-in opens the session). */
export interface SsoLinked {
  email: string;
}

const TOKEN = /^[\x21-\x7e]{1,512}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The token body of login, mfa and refresh answers. */
export function parseIssuedTokens(value: unknown): IssuedTokens {
  if (!isRecord(value)) throw new ShapeError('tokens', 'an object');
  const { accessToken, refreshToken, accessTokenExpiresAt } = value;
  if (typeof accessToken !== 'string' || !TOKEN.test(accessToken))
    throw new ShapeError('accessToken', 'a token');
  if (typeof refreshToken !== 'string' || !TOKEN.test(refreshToken))
    throw new ShapeError('refreshToken', 'a token');
  const expiresAt = typeof accessTokenExpiresAt === 'string' ? Date.parse(accessTokenExpiresAt) : Number.NaN;
  if (!Number.isFinite(expiresAt)) throw new ShapeError('accessTokenExpiresAt', 'an ISO date');
  return { accessToken, refreshToken, expiresAt };
}

const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}$/;

/** The answer of `POST /v1/sso/saml/exchange`: the login token body, `email` optional (older relays omit it). */
export function parseSsoTokens(value: unknown): SsoTokens {
  return { ...parseIssuedTokens(value), email: emailOf(value) };
}

function emailOf(value: unknown): string | null {
  const email = isRecord(value) && typeof value.email === 'string' ? value.email.trim() : '';
  return EMAIL.test(email) ? email : null;
}

/** The answer of `POST /v1/sso/saml/exchange`, including the second-factor step a password sign-in has. */
export function parseSsoExchange(value: unknown): SsoExchange {
  if (isRecord(value) && value.mfaRequired === true) {
    const { mfaToken, factors } = value;
    if (typeof mfaToken !== 'string' || !TOKEN.test(mfaToken)) throw new ShapeError('mfaToken', 'a token');
    const known = Array.isArray(factors) ? factors.filter((f): f is string => typeof f === 'string') : [];
    return { kind: 'mfa', mfaToken, factors: known, email: emailOf(value) };
  }
  return { kind: 'tokens', tokens: parseSsoTokens(value) };
}

/** The answer of `POST /v1/sso/saml/link`. */
export function parseSsoLinked(value: unknown): SsoLinked {
  if (!isRecord(value) || value.linked !== true) throw new ShapeError('linked', 'true');
  const email = emailOf(value);
  if (email === null) throw new ShapeError('email', 'an email address');
  return { email };
}

export function parseLoginOutcome(value: unknown): LoginOutcome {
  if (isRecord(value) && value.mfaRequired === true) {
    const { mfaToken } = value;
    if (typeof mfaToken !== 'string' || !TOKEN.test(mfaToken)) throw new ShapeError('mfaToken', 'a token');
    return { kind: 'mfa', mfaToken };
  }
  return { kind: 'tokens', tokens: parseIssuedTokens(value) };
}

/** A stored session, or null when anything is off (so a corrupt value reads as signed out). */
export function parseAuthSession(value: unknown): AuthSession | null {
  if (!isRecord(value)) return null;
  const { relayUrl, email, accessToken, refreshToken, expiresAt } = value;
  if (typeof relayUrl !== 'string' || typeof email !== 'string') return null;
  if (typeof accessToken !== 'string' || !TOKEN.test(accessToken)) return null;
  if (typeof refreshToken !== 'string' || !TOKEN.test(refreshToken)) return null;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return null;
  return { relayUrl, email, accessToken, refreshToken, expiresAt };
}

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
}

/** Plain-language text for a failed sign-in step. */
export function signInErrorMessage(error: unknown): string {
  if (!(error instanceof RelayError)) return error instanceof Error ? error.message : String(error);
  switch (error.code) {
    case 'INVALID_CREDENTIALS':
      return 'The email or password is not right.';
    case 'INVALID_CODE':
      return 'That code is not right (or was already used). Check your authenticator app and try again.';
    case 'INVALID_MFA_TOKEN':
      return 'This sign-in step expired. Start again with your email and password.';
    case 'CODE_REQUIRED':
      return 'Enter the 6-digit code from your authenticator app, or a recovery code.';
    case 'TOO_MANY_ATTEMPTS': {
      const wait = error.retryAfterSeconds;
      const when =
        wait === null
          ? 'later'
          : wait < 90
            ? `in ${Math.ceil(wait)} seconds`
            : `in ${Math.ceil(wait / 60)} minutes`;
      return `Too many attempts. Try again ${when}.`;
    }
    case 'SSO_REQUIRED':
      return 'Your organisation signs in with single sign-on (SSO), not a password here. Use “Sign in with SSO”.';
    case 'SECOND_FACTOR_ENROLMENT_REQUIRED':
      return 'Your organisation requires an authenticator app. Set it up in the relay web app, then sign in here.';
    case 'VALIDATION_FAILED':
    case 'BAD_REQUEST':
      return 'Check the email address and the code format.';
    default:
      return error.message;
  }
}

/** Plain-language text for a refused account link (`POST /v1/sso/saml/link`). */
export function ssoLinkErrorMessage(error: unknown): string {
  if (error instanceof RelayError) {
    switch (error.code) {
      case 'INVALID_CREDENTIALS':
        return 'The password or authenticator code is not right.';
      case 'CODE_REQUIRED':
        return 'This account also uses an authenticator app: enter its 6-digit code with your password.';
      case 'SSO_LINK_NEEDS_OWNER':
        return 'This account cannot be linked with a password. Ask your organisation’s owner to link your account.';
      case 'INVALID_LINK_TOKEN':
        return 'This link request expired (it lasts 10 minutes) or was already used. Start SSO sign-in again.';
      case 'VALIDATION_FAILED':
      case 'BAD_REQUEST':
        return 'Check the password, and that the authenticator code is 6 digits.';
    }
  }
  return signInErrorMessage(error);
}

export type SignInState =
  | { step: 'credentials'; busy: boolean; error: string | null }
  | {
      step: 'second-factor';
      busy: boolean;
      error: string | null;
      email: string;
      mfaToken: string;
      /** How the first step was passed: a password here, or the identity provider (SSO). */
      via: 'password' | 'sso';
    }
  /** The relay refused a password because the organisation signs in through its identity provider. */
  | { step: 'sso-required'; email: string; message: string }
  | { step: 'signed-in'; email: string };

/**
 * The options page's sign-in: password, then (when the relay asks) a second factor, then the session is
 * stored. The UI renders `state` and calls the methods; errors come back as state, never as throws.
 */
export class SignInFlow {
  state: SignInState = { step: 'credentials', busy: false, error: null };

  constructor(
    private readonly api: AuthApi,
    private readonly store: SessionStore,
    private readonly relayUrl: string,
    private readonly onChange: (state: SignInState) => void = () => undefined,
  ) {}

  private setState(state: SignInState): void {
    this.state = state;
    this.onChange(state);
  }

  async submitPassword(email: string, password: string): Promise<void> {
    if (this.state.step !== 'credentials' || this.state.busy) return;
    const cleanEmail = email.trim();
    if (!cleanEmail || !password) {
      this.setState({ step: 'credentials', busy: false, error: 'Enter your email and password.' });
      return;
    }
    this.setState({ step: 'credentials', busy: true, error: null });
    try {
      const outcome = await this.api.login(cleanEmail, password);
      if (outcome.kind === 'mfa') {
        this.setState({
          step: 'second-factor',
          busy: false,
          error: null,
          email: cleanEmail,
          mfaToken: outcome.mfaToken,
          via: 'password',
        });
      } else {
        await this.finish(cleanEmail, outcome.tokens);
      }
    } catch (error) {
      if (error instanceof RelayError && error.code === 'SSO_REQUIRED') {
        this.setState({ step: 'sso-required', email: cleanEmail, message: signInErrorMessage(error) });
      } else {
        this.setState({ step: 'credentials', busy: false, error: signInErrorMessage(error) });
      }
    }
  }

  async submitCode(code: string): Promise<void> {
    const state = this.state;
    if (state.step !== 'second-factor' || state.busy) return;
    if (!code.trim()) {
      this.setState({ ...state, error: 'Enter the 6-digit code or a recovery code.' });
      return;
    }
    this.setState({ ...state, busy: true, error: null });
    try {
      await this.finish(state.email, await this.api.secondFactor(state.mfaToken, code));
    } catch (error) {
      // An expired or used MFA token cannot be retried: back to the first step.
      if (error instanceof RelayError && error.code === 'INVALID_MFA_TOKEN') {
        const message =
          state.via === 'sso'
            ? 'This sign-in step expired. Start SSO sign-in again.'
            : signInErrorMessage(error);
        this.setState({ step: 'credentials', busy: false, error: message });
      } else {
        this.setState({ ...state, busy: false, error: signInErrorMessage(error) });
      }
    }
  }

  /**
   * Continues an SSO sign-in whose identity provider step passed but whose account has a second factor:
   * the same code step as after a password.
   */
  continueAfterSso(email: string, mfaToken: string): void {
    this.setState({ step: 'second-factor', busy: false, error: null, email, mfaToken, via: 'sso' });
  }

  /** Back to the password step (e.g. "Use a different account"). */
  restart(): void {
    this.setState({ step: 'credentials', busy: false, error: null });
  }

  private async finish(email: string, tokens: IssuedTokens): Promise<void> {
    await this.store.set({ relayUrl: this.relayUrl, email, ...tokens });
    this.setState({ step: 'signed-in', email });
  }
}

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
