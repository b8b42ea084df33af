// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { AuthApi } from '../../extension/lib/auth/auth-api.ts';
import type { AuthSession, SessionStore } from '../../extension/lib/auth/session.ts';
import { SignInFlow, type SignInState } from '../../extension/lib/auth/sign-in-flow.ts';
import { SsoLinkFlow, type SsoLinkState } from '../../extension/lib/auth/sso-link-flow.ts';
import { TokenRefresher } from '../../extension/lib/auth/token-refresher.ts';
import { RelayClient } from '../../extension/lib/relay/relay-client.ts';

const RELAY = 'http://relay.test';
const EXPIRES = '2030-01-01T00:10:00.000Z';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const tokens = (n: number) => ({
  sessionId: 's1',
  accessToken: `access-${n}`,
  accessTokenExpiresAt: EXPIRES,
  refreshToken: `refresh-${n}`,
});

class MemoryStore implements SessionStore {
  session: AuthSession | null = null;
  cleared: string[] = [];
  async get() {
    return this.session;
  }
  async set(session: AuthSession) {
    this.session = session;
  }
  async clear(reason: 'signed-out' | 'expired') {
    this.session = null;
    this.cleared.push(reason);
  }
}

type Call = { url: string; body: unknown; auth: string | undefined };

function fakeFetch(answer: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const call = {
      url,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      auth: headers.Authorization,
    };
    calls.push(call);
    return answer(call);
  });
  return { fetch, calls };
}

function flowWith(answer: (call: Call) => Response) {
  const { fetch, calls } = fakeFetch(answer);
  const store = new MemoryStore();
  const states: SignInState[] = [];
  const flow = new SignInFlow(new AuthApi(RELAY, fetch), store, RELAY, (s) => states.push(s));
  return { flow, store, calls, states };
}

describe('sign-in flow', () => {
  it('signs in with a password alone', async () => {
    const { flow, store, calls } = flowWith(() => json(201, tokens(1)));
    await flow.submitPassword(' ada@example.com ', 'pw');
    expect(calls[0]).toMatchObject({
      url: `${RELAY}/v1/auth/login`,
      body: { email: 'ada@example.com', password: 'pw' },
    });
    expect(flow.state).toEqual({ step: 'signed-in', email: 'ada@example.com' });
    expect(store.session).toEqual({
      relayUrl: RELAY,
      email: 'ada@example.com',
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: Date.parse(EXPIRES),
      // The relay here does not say the org allows it, so the session is not kept across restarts.
      keepSignedIn: false,
    });
  });

  it('goes password → second factor → signed in, sending a TOTP code as code', async () => {
    const { flow, store, calls, states } = flowWith((call) =>
      call.url.endsWith('/login')
        ? json(200, { mfaRequired: true, mfaToken: 'mfa-token-abcdefghijklmnop' })
        : json(201, tokens(2)),
    );
    await flow.submitPassword('ada@example.com', 'pw');
    expect(flow.state).toMatchObject({ step: 'second-factor', mfaToken: 'mfa-token-abcdefghijklmnop' });
    expect(store.session).toBeNull();
    await flow.submitCode('123 456');
    expect(calls[1]).toMatchObject({
      url: `${RELAY}/v1/auth/mfa`,
      body: { mfaToken: 'mfa-token-abcdefghijklmnop', code: '123456' },
    });
    expect(flow.state.step).toBe('signed-in');
    expect(store.session?.accessToken).toBe('access-2');
    expect(states.map((s) => s.step)).toEqual(['credentials', 'second-factor', 'second-factor', 'signed-in']);
  });

  it('sends anything else as a recovery code', async () => {
    const { flow, calls } = flowWith((call) =>
      call.url.endsWith('/login')
        ? json(200, { mfaRequired: true, mfaToken: 'mfa-token-abcdefghijklmnop' })
        : json(201, tokens(3)),
    );
    await flow.submitPassword('ada@example.com', 'pw');
    await flow.submitCode('abcd-ef01-2345-6789');
    expect(calls[1]?.body).toEqual({
      mfaToken: 'mfa-token-abcdefghijklmnop',
      recoveryCode: 'abcd-ef01-2345-6789',
    });
  });

  it('stays on the password step with a clear message on bad credentials', async () => {
    const { flow, store } = flowWith(() =>
      json(401, { error: { code: 'INVALID_CREDENTIALS', message: 'nope', details: null } }),
    );
    await flow.submitPassword('ada@example.com', 'wrong');
    expect(flow.state).toEqual({
      step: 'credentials',
      busy: false,
      error: 'The email or password is not right.',
    });
    expect(store.session).toBeNull();
  });

  it('says when to try again after too many attempts', async () => {
    const { flow } = flowWith(() =>
      json(
        429,
        { error: { code: 'TOO_MANY_ATTEMPTS', message: 'slow down', details: null } },
        { 'Retry-After': '120' },
      ),
    );
    await flow.submitPassword('ada@example.com', 'pw');
    expect(flow.state).toMatchObject({
      step: 'credentials',
      error: 'Too many attempts. Try again in 2 minutes.',
    });
  });

  it('keeps the second step on a wrong code and restarts on an expired MFA token', async () => {
    let mfaAnswer = json(401, { error: { code: 'INVALID_CODE', message: 'x', details: null } });
    const { flow } = flowWith((call) =>
      call.url.endsWith('/login')
        ? json(200, { mfaRequired: true, mfaToken: 'mfa-token-abcdefghijklmnop' })
        : mfaAnswer,
    );
    await flow.submitPassword('ada@example.com', 'pw');
    await flow.submitCode('000000');
    expect(flow.state).toMatchObject({ step: 'second-factor', busy: false });
    expect(flow.state.step === 'second-factor' && flow.state.error).toMatch(/code is not right/);
    mfaAnswer = json(401, { error: { code: 'INVALID_MFA_TOKEN', message: 'x', details: null } });
    await flow.submitCode('111111');
    expect(flow.state).toMatchObject({ step: 'credentials' });
    expect(flow.state.step === 'credentials' && flow.state.error).toMatch(/expired/);
  });

  it('explains a required second-factor enrolment and an unreachable relay', async () => {
    const { flow } = flowWith(() =>
      json(403, { error: { code: 'SECOND_FACTOR_ENROLMENT_REQUIRED', message: 'x', details: null } }),
    );
    await flow.submitPassword('ada@example.com', 'pw');
    expect(flow.state.step === 'credentials' && flow.state.error).toMatch(/authenticator app/);

    const offline = new SignInFlow(
      new AuthApi(RELAY, async () => {
        throw new TypeError('Failed to fetch');
      }),
      new MemoryStore(),
      RELAY,
    );
    await offline.submitPassword('ada@example.com', 'pw');
    expect(offline.state.step === 'credentials' && offline.state.error).toMatch(/Could not reach the relay/);
  });

  it('moves to the SSO path when the relay says the organisation signs in with SSO', async () => {
    const { flow, store } = flowWith(() =>
      json(403, { error: { code: 'SSO_REQUIRED', message: 'Use SAML', details: null } }),
    );
    await flow.submitPassword('ada@example.com', 'pw');
    expect(flow.state).toEqual({
      step: 'sso-required',
      email: 'ada@example.com',
      message: expect.stringMatching(/single sign-on \(SSO\).*Sign in with SSO/),
    });
    expect(store.session).toBeNull();
  });

  it('asks for both fields before calling the relay', async () => {
    const { flow, calls } = flowWith(() => json(201, tokens(1)));
    await flow.submitPassword('', '');
    expect(calls).toHaveLength(0);
    expect(flow.state).toMatchObject({ error: 'Enter your email and password.' });
  });
});

describe('second factor after SSO', () => {
  it('finishes an SSO sign-in with the authenticator code at /v1/auth/mfa, like after a password', async () => {
    const { flow, store, calls } = flowWith(() => json(201, tokens(7)));
    flow.continueAfterSso('tess@example.com', 'mfa-sso-token');
    expect(flow.state).toMatchObject({ step: 'second-factor', email: 'tess@example.com', via: 'sso' });
    await flow.submitCode(' 123 456 ');
    expect(calls).toEqual([
      { url: `${RELAY}/v1/auth/mfa`, body: { mfaToken: 'mfa-sso-token', code: '123456' }, auth: undefined },
    ]);
    expect(flow.state).toEqual({ step: 'signed-in', email: 'tess@example.com' });
    expect(store.session).toMatchObject({
      relayUrl: RELAY,
      email: 'tess@example.com',
      accessToken: 'access-7',
    });
  });

  it('sends the rep back to SSO, not to a password, when the SSO second step expired', async () => {
    const { flow } = flowWith(() =>
      json(401, { error: { code: 'INVALID_MFA_TOKEN', message: 'x', details: null } }),
    );
    flow.continueAfterSso('tess@example.com', 'mfa-sso-token');
    await flow.submitCode('123456');
    expect(flow.state).toMatchObject({
      step: 'credentials',
      error: expect.stringMatching(/Start SSO sign-in again/),
    });
  });
});

const LINK_TOKEN = 'LiNkToKeN_-0123456789abcdef';

function linkWith(answer: (call: Call) => Response) {
  const { fetch, calls } = fakeFetch(answer);
  const states: SsoLinkState[] = [];
  const flow = new SsoLinkFlow(new AuthApi(RELAY, fetch), LINK_TOKEN, (s) => states.push(s));
  return { flow, calls, states };
}

const refusal = (status: number, code: string) =>
  json(status, { error: { code, message: code, details: null } });

describe('linking an account to the identity provider once', () => {
  it('posts the link token with the password (and the code when given), then reports it linked', async () => {
    const { flow, calls } = linkWith(() => json(200, { linked: true, email: 'bea@example.com' }));
    await flow.submit('pw', ' 123456 ');
    expect(calls).toEqual([
      {
        url: `${RELAY}/v1/sso/saml/link`,
        body: { linkToken: LINK_TOKEN, password: 'pw', code: '123456' },
        auth: undefined,
      },
    ]);
    expect(flow.state).toEqual({ step: 'linked', email: 'bea@example.com' });
    const { flow: noCode, calls: sent } = linkWith(() =>
      json(200, { linked: true, email: 'bea@example.com' }),
    );
    await noCode.submit('pw', '');
    expect(sent[0]?.body).toEqual({ linkToken: LINK_TOKEN, password: 'pw' });
  });

  it('asks for the authenticator code when the relay says the account has one, and keeps asking', async () => {
    const { flow, calls } = linkWith(() => refusal(400, 'CODE_REQUIRED'));
    await flow.submit('pw', '');
    expect(flow.state).toMatchObject({ step: 'form', codeNeeded: true, busy: false });
    expect(flow.state.step === 'form' && flow.state.error).toMatch(/authenticator app/);
    await flow.submit('pw', '');
    expect(calls).toHaveLength(1);
    // Recovery codes are not taken here: said before anything is sent.
    await flow.submit('pw', 'abcd-efgh-ijkl');
    expect(flow.state.step === 'form' && flow.state.error).toMatch(/6 digits/);
    expect(calls).toHaveLength(1);
  });

  it.each([
    [refusal(401, 'INVALID_CREDENTIALS'), 'form', /password or authenticator code is not right/],
    [refusal(429, 'TOO_MANY_ATTEMPTS'), 'form', /Too many attempts/],
    [
      refusal(409, 'SSO_LINK_NEEDS_OWNER'),
      'needs-owner',
      /Ask your organisation’s owner to link your account/,
    ],
    [refusal(401, 'INVALID_LINK_TOKEN'), 'expired', /Start SSO sign-in again/],
  ])('explains a refusal in plain words (%#)', async (answer, step, text) => {
    const { flow } = linkWith(() => answer);
    await flow.submit('pw', '');
    expect(flow.state.step).toBe(step);
    const shown =
      flow.state.step === 'form' ? flow.state.error : 'message' in flow.state ? flow.state.message : '';
    expect(shown).toMatch(text);
  });

  it('asks for the password before calling the relay', async () => {
    const { flow, calls } = linkWith(() => json(200, { linked: true, email: 'bea@example.com' }));
    await flow.submit('', '');
    expect(flow.state).toMatchObject({ step: 'form', error: 'Enter your password.' });
    expect(calls).toHaveLength(0);
  });
});

describe('signing out on the relay', () => {
  const expired = () =>
    json(401, { error: { code: 'TOKEN_EXPIRED', message: 'The access token has expired.', details: null } });

  it('ends the session with its access token', async () => {
    const { fetch, calls } = fakeFetch(() => new Response(null, { status: 204 }));
    await new AuthApi(RELAY, fetch).signOut({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(calls.map((c) => [c.url, c.auth])).toEqual([[`${RELAY}/v1/auth/logout`, 'Bearer access-1']]);
  });

  it('still ends it after the access token lapsed (a laptop woken from sleep): one refresh, then the logout', async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.endsWith('/v1/auth/refresh')) return json(200, tokens(2));
      return call.auth === 'Bearer access-1' ? expired() : new Response(null, { status: 204 });
    });
    await new AuthApi(RELAY, fetch).signOut({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(calls.map((c) => [c.url.slice(RELAY.length), c.auth ?? c.body])).toEqual([
      ['/v1/auth/logout', 'Bearer access-1'],
      ['/v1/auth/refresh', { refreshToken: 'refresh-1' }],
      ['/v1/auth/logout', 'Bearer access-2'],
    ]);
  });

  it('gives up quietly when the refresh token is refused too: the session already ended on the relay', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.url.endsWith('/v1/auth/refresh')
        ? json(401, { error: { code: 'INVALID_REFRESH_TOKEN', message: 'revoked', details: null } })
        : expired(),
    );
    await new AuthApi(RELAY, fetch).signOut({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(calls).toHaveLength(2);
  });

  it('reports a relay it cannot reach, so the caller can say the relay was not told', async () => {
    const offline = new AuthApi(RELAY, async () => {
      throw new TypeError('fetch failed');
    });
    await expect(
      offline.signOut({ accessToken: 'access-1', refreshToken: 'refresh-1' }),
    ).rejects.toMatchObject({ status: 0 });
  });
});

describe('SSO code exchange', () => {
  const CODE = 'AbCdEfGhIjKlMnOpQrStUv_-0123456789';

  it('trades the one-time code for tokens at /v1/sso/saml/exchange, without a bearer token', async () => {
    const { fetch, calls } = fakeFetch(() => json(201, { ...tokens(4), email: 'ada@example.com' }));
    const result = await new AuthApi(RELAY, fetch).exchange(CODE);
    expect(calls).toEqual([{ url: `${RELAY}/v1/sso/saml/exchange`, body: { code: CODE }, auth: undefined }]);
    expect(result).toEqual({
      kind: 'tokens',
      tokens: {
        accessToken: 'access-4',
        refreshToken: 'refresh-4',
        expiresAt: Date.parse(EXPIRES),
        keepSignedIn: false,
        email: 'ada@example.com',
      },
    });
  });

  it('reads an answer without an email (the relay does not send one yet) as email null', async () => {
    const { fetch } = fakeFetch(() => json(201, { ...tokens(4), secondFactorEnrolmentRequired: true }));
    expect(await new AuthApi(RELAY, fetch).exchange(CODE)).toMatchObject({
      kind: 'tokens',
      tokens: { accessToken: 'access-4', email: null },
    });
    const { fetch: odd } = fakeFetch(() => json(201, { ...tokens(4), email: 'not an email' }));
    expect(await new AuthApi(RELAY, odd).exchange(CODE)).toMatchObject({ tokens: { email: null } });
  });

  it('reads an answer asking for the second factor as that step, never as a session', async () => {
    const { fetch } = fakeFetch(() =>
      json(200, { mfaRequired: true, mfaToken: 'mfa-1', factors: ['totp'], email: 'tess@example.com' }),
    );
    expect(await new AuthApi(RELAY, fetch).exchange(CODE)).toEqual({
      kind: 'mfa',
      mfaToken: 'mfa-1',
      factors: ['totp'],
      email: 'tess@example.com',
    });
    const { fetch: bad } = fakeFetch(() => json(200, { mfaRequired: true, mfaToken: 'has space' }));
    await expect(new AuthApi(RELAY, bad).exchange(CODE)).rejects.toThrow(/mfaToken/);
  });

  it('turns a used or expired code into INVALID_CODE', async () => {
    const { fetch } = fakeFetch(() =>
      json(401, {
        error: {
          code: 'INVALID_CODE',
          message: 'The sign-in code is unknown, used or expired',
          details: null,
        },
      }),
    );
    await expect(new AuthApi(RELAY, fetch).exchange(CODE)).rejects.toMatchObject({
      status: 401,
      code: 'INVALID_CODE',
    });
  });

  it('refuses an answer without tokens and reports an unreachable relay', async () => {
    const { fetch } = fakeFetch(() => json(201, { sessionId: 's1' }));
    await expect(new AuthApi(RELAY, fetch).exchange(CODE)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    const offline = new AuthApi(RELAY, async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(offline.exchange(CODE)).rejects.toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
  });
});

const signedIn = (n: number): AuthSession => ({
  relayUrl: RELAY,
  email: 'ada@example.com',
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt: Date.parse(EXPIRES),
});

describe('token refresher', () => {
  it('runs one refresh for two concurrent 401s and rotates the stored tokens', async () => {
    const store = new MemoryStore();
    store.session = signedIn(1);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch, calls } = fakeFetch(async () => {
      await gate;
      return json(200, tokens(2));
    });
    const refresher = new TokenRefresher({ store, api: (url) => new AuthApi(url, fetch) });
    const first = refresher.refresh('access-1');
    const second = refresher.refresh('access-1');
    release();
    expect(await Promise.all([first, second])).toEqual([{ ok: true }, { ok: true }]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ refreshToken: 'refresh-1' });
    expect(store.session?.accessToken).toBe('access-2');
    expect(store.session?.refreshToken).toBe('refresh-2');
    // A late 401 for the old token is answered from the session, without spending refresh-2.
    expect(await refresher.refresh('access-1')).toEqual({ ok: true });
    expect(calls).toHaveLength(1);
  });

  it('clears the session when the relay refuses the refresh', async () => {
    const store = new MemoryStore();
    store.session = signedIn(1);
    const { fetch } = fakeFetch(() =>
      json(401, { error: { code: 'INVALID_REFRESH_TOKEN', message: 'reused', details: null } }),
    );
    const refresher = new TokenRefresher({ store, api: (url) => new AuthApi(url, fetch) });
    expect(await refresher.refresh('access-1')).toEqual({ ok: false, signedOut: true });
    expect(store.session).toBeNull();
    expect(store.cleared).toEqual(['expired']);
  });

  it('keeps the session when the relay is unreachable', async () => {
    const store = new MemoryStore();
    store.session = signedIn(1);
    const refresher = new TokenRefresher({
      store,
      api: (url) =>
        new AuthApi(url, async () => {
          throw new TypeError('offline');
        }),
    });
    expect(await refresher.refresh()).toEqual({ ok: false, signedOut: false });
    expect(store.session).toEqual(signedIn(1));
  });

  it('does not overwrite a session started while the refresh was in flight', async () => {
    const store = new MemoryStore();
    store.session = signedIn(1);
    const { fetch } = fakeFetch(async () => {
      store.session = signedIn(9);
      return json(200, tokens(2));
    });
    const refresher = new TokenRefresher({ store, api: (url) => new AuthApi(url, fetch) });
    expect(await refresher.refresh()).toEqual({ ok: true });
    expect(store.session).toEqual(signedIn(9));
  });

  it('schedules the proactive refresh a minute before expiry', () => {
    const refresher = new TokenRefresher({
      store: new MemoryStore(),
      api: () => ({ refresh: vi.fn(), logout: vi.fn() }),
      now: () => 1_000_000,
    });
    expect(refresher.delayFor({ ...signedIn(1), expiresAt: 1_000_000 + 600_000 })).toBe(540_000);
    expect(refresher.delayFor({ ...signedIn(1), expiresAt: 1_000_000 })).toBe(0);
  });
});

describe('relay client on 401', () => {
  it('asks once for a fresh token and retries once with it', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.auth === 'Bearer access-2'
        ? json(200, { orgId: 'o', orgName: 'Acme', role: 'rep', permissions: [] })
        : json(401, { error: { code: 'UNAUTHENTICATED', message: 'expired', details: null } }),
    );
    const onUnauthorized = vi.fn(async () => 'access-2');
    const client = new RelayClient({ baseUrl: RELAY, apiKey: 'access-1', fetch, onUnauthorized });
    expect((await client.me()).orgName).toBe('Acme');
    expect(onUnauthorized).toHaveBeenCalledWith('access-1');
    expect(calls.map((c) => c.auth)).toEqual(['Bearer access-1', 'Bearer access-2']);
    // Later calls use the fresh token directly.
    await client.me();
    expect(calls.at(-1)?.auth).toBe('Bearer access-2');
  });

  it('gives the 401 to the caller when no fresh token comes back, and retries only once', async () => {
    const { fetch, calls } = fakeFetch(() =>
      json(401, { error: { code: 'UNAUTHENTICATED', message: 'expired', details: null } }),
    );
    const onUnauthorized = vi.fn(async (stale: string) => (stale === 'access-1' ? 'access-2' : null));
    const client = new RelayClient({ baseUrl: RELAY, apiKey: 'access-1', fetch, onUnauthorized });
    await expect(client.me()).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(calls).toHaveLength(2);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('two concurrent 401s in the panel lead to a single refresh call at the relay', async () => {
    const store = new MemoryStore();
    store.session = signedIn(1);
    const { fetch: authFetch, calls: refreshCalls } = fakeFetch(() => json(200, tokens(2)));
    const refresher = new TokenRefresher({ store, api: (url) => new AuthApi(url, authFetch) });
    const { fetch } = fakeFetch((call) =>
      call.auth === 'Bearer access-2'
        ? json(200, { orgId: 'o', orgName: 'Acme', role: 'rep', permissions: [] })
        : json(401, { error: { code: 'UNAUTHENTICATED', message: 'expired', details: null } }),
    );
    // Two panels, each with its own client, sharing the background's refresher and the store.
    const onUnauthorized = async (stale: string) =>
      (await refresher.refresh(stale)).ok ? ((await store.get())?.accessToken ?? null) : null;
    const a = new RelayClient({ baseUrl: RELAY, apiKey: 'access-1', fetch, onUnauthorized });
    const b = new RelayClient({ baseUrl: RELAY, apiKey: 'access-1', fetch, onUnauthorized });
    await Promise.all([a.me(), b.me(), a.numbers().catch(() => null)]);
    expect(refreshCalls).toHaveLength(1);
  });
});
