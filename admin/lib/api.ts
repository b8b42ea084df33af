import type { Static } from 'typebox';
import type { SecondFactorRequired, SessionTokens } from '../../contract/auth.ts';
import { ApiProblem } from './api-problem.ts';
import { passkeyAssertion } from './passkey.ts';

type Tokens = Static<typeof SessionTokens>;

export { ApiProblem };

/** What the first sign-in step answers: a session, or the second factor it still needs. */
export type SignInStep =
  | { kind: 'signed_in' }
  | { kind: 'second_factor'; mfaToken: string; factors: string[] };

const STORAGE_KEY = 'crm-texting-admin-session';

/** Where the session is kept: this tab only (sessionStorage), never across browser restarts. */
export interface SessionStore {
  load(): Tokens | null;
  save(tokens: Tokens | null): void;
}

export const tabSessionStore: SessionStore = {
  load() {
    try {
      const raw = sessionStorage.getItem(STORAGE_KEY);
      return raw === null ? null : (JSON.parse(raw) as Tokens);
    } catch {
      // best effort: unreadable storage means signing in again, never a broken console
      return null;
    }
  },
  save(tokens) {
    if (tokens === null) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
  },
};

async function problemOf(response: Response): Promise<ApiProblem> {
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    if (body.error?.code !== undefined)
      return new ApiProblem(
        response.status,
        body.error.code,
        body.error.message ?? body.error.code,
        body.error.details,
      );
  } catch {
    // best effort: a body that is not the error envelope is reported by its status below
  }
  return new ApiProblem(
    response.status,
    'HTTP_ERROR',
    `The relay answered ${response.status} ${response.statusText}. Try again; if it persists, check the relay's log.`,
  );
}

/**
 * The console's one way to the relay's JSON API: the bearer token of the signed-in admin, one
 * refresh when it expires, and every refusal turned into an ApiProblem with the relay's code.
 */
export class AdminApi {
  private tokens: Tokens | null;
  private refreshing: Promise<boolean> | null = null;
  /** Called when the session ends underneath the console (expired, revoked, deactivated). */
  onSignedOut: (reason: string) => void = () => undefined;

  constructor(private readonly store: SessionStore = tabSessionStore) {
    this.tokens = store.load();
  }

  get signedIn(): boolean {
    return this.tokens !== null;
  }

  async signIn(email: string, password: string): Promise<SignInStep> {
    const answer = await this.publicPost<Tokens | Static<typeof SecondFactorRequired>>('/v1/auth/login', {
      email,
      password,
    });
    if ('mfaRequired' in answer)
      return { kind: 'second_factor', mfaToken: answer.mfaToken, factors: answer.factors };
    this.keep(answer);
    return { kind: 'signed_in' };
  }

  async secondFactor(mfaToken: string, factor: { code: string } | { recoveryCode: string }): Promise<void> {
    this.keep(await this.publicPost<Tokens>('/v1/auth/mfa', { mfaToken, ...factor }));
  }

  /** The second step with a passkey on this device instead of a code. */
  async passkeySecondFactor(mfaToken: string): Promise<void> {
    const options = await this.publicPost<unknown>('/v1/auth/mfa/passkey/options', { mfaToken });
    const response = await passkeyAssertion(options);
    this.keep(await this.publicPost<Tokens>('/v1/auth/mfa/passkey', { mfaToken, response }));
  }

  /** Signing in with a passkey alone (it proves both factors); the email narrows which passkeys are offered. */
  async passkeySignIn(email: string): Promise<void> {
    const options = await this.publicPost<unknown>('/v1/auth/passkey/options', email === '' ? {} : { email });
    const response = await passkeyAssertion(options);
    this.keep(await this.publicPost<Tokens>('/v1/auth/passkey', { response }));
  }

  /** Trades the one-time code single sign-on handed back for a session, or the second factor it needs. */
  async ssoExchange(code: string): Promise<SignInStep & { email: string }> {
    const answer = await this.publicPost<(Tokens | Static<typeof SecondFactorRequired>) & { email: string }>(
      '/v1/sso/saml/exchange',
      { code },
    );
    if ('mfaRequired' in answer)
      return {
        kind: 'second_factor',
        mfaToken: answer.mfaToken,
        factors: answer.factors,
        email: answer.email,
      };
    this.keep(answer);
    return { kind: 'signed_in', email: answer.email };
  }

  /** Links this account to the identity provider that named it, with its own password (and code). */
  async ssoLink(linkToken: string, password: string, code: string | null): Promise<void> {
    await this.publicPost('/v1/sso/saml/link', { linkToken, password, ...(code === null ? {} : { code }) });
  }

  async signOut(): Promise<void> {
    try {
      if (this.tokens !== null) await this.request('POST', '/v1/auth/logout', {});
    } catch {
      // best effort: the tokens are forgotten here whatever the relay says
    }
    this.keep(null);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('POST', path, body, headers);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** A file the relay answers (a CSV export), with the name its Content-Disposition gives. */
  async download(path: string): Promise<{ blob: Blob; filename: string }> {
    const response = await this.authorised('GET', path);
    if (!response.ok) throw await problemOf(response);
    const disposition = response.headers.get('content-disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'export.csv';
    return { blob: await response.blob(), filename };
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await this.authorised(method, path, body, headers);
    if (!response.ok) throw await problemOf(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async authorised(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const send = () => fetch(path, this.init(method, body, headers));
    let response = await send();
    if (response.status === 401 && (await this.refresh())) response = await send();
    if (response.status === 401) {
      const problem = await problemOf(response.clone());
      this.keep(null);
      this.onSignedOut(problem.message);
    }
    return response;
  }

  private init(method: string, body: unknown, headers: Record<string, string>): RequestInit {
    const all: Record<string, string> = { ...headers };
    if (this.tokens !== null) all.authorization = `Bearer ${this.tokens.accessToken}`;
    if (body !== undefined) all['content-type'] = 'application/json';
    return { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) };
  }

  /** One refresh at a time; false when there is no session or the relay refuses it. */
  private refresh(): Promise<boolean> {
    const tokens = this.tokens;
    if (tokens === null) return Promise.resolve(false);
    this.refreshing ??= (async () => {
      try {
        this.keep(await this.publicPost<Tokens>('/v1/auth/refresh', { refreshToken: tokens.refreshToken }));
        return true;
      } catch {
        // best effort: a refused refresh ends the session; the caller reports the 401
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async publicPost<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await problemOf(response);
    return (await response.json()) as T;
  }

  private keep(tokens: Tokens | null): void {
    this.tokens = tokens;
    this.store.save(tokens);
  }
}
