// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { AuthApi } from '../../extension/lib/auth/auth-api.ts';
import type { AuthSession, SessionStore } from '../../extension/lib/auth/session.ts';
import { SsoCoordinator, type SsoPorts } from '../../extension/lib/auth/sso-coordinator.ts';
import { parseSsoTarget, ssoLoginUrl } from '../../extension/lib/auth/sso-login.ts';
import {
  type ActiveSsoState,
  isSsoExpired,
  parseSsoState,
  SSO_PENDING_TTL_MS,
} from '../../extension/lib/auth/sso-state.ts';
import { classifySsoTab } from '../../extension/lib/auth/sso-tab.ts';

const RELAY = 'https://relay.example.com';
const ORG = '123e4567-e89b-12d3-a456-426614174000';
const CODE = 'AbCdEfGhIjKlMnOpQrStUv_-0123456789';
const DONE = `${RELAY}/v1/sso/saml/done#code=${CODE}`;
/** The done page as the relay sends it to the attempt that started with this state. */
const doneFor = (state: string) => `${DONE}&state=${state}`;
const EXPIRES = '2030-01-01T00:10:00.000Z';
const LINK = 'LiNkToKeN_-0123456789abcdef';

describe('what the rep may enter as the SSO target', () => {
  it('accepts the sign-in link an admin hands out and rebuilds it from the organisation ID', () => {
    expect(parseSsoTarget(`  ${RELAY}/v1/sso/saml/${ORG}/login  `, RELAY)).toEqual({
      ok: true,
      orgId: ORG,
      loginUrl: `${RELAY}/v1/sso/saml/${ORG}/login`,
    });
    // A trailing slash, a query or a fragment is tolerated but never carried into the opened address.
    expect(parseSsoTarget(`${RELAY}/v1/sso/saml/${ORG}/login/?x=1#y`, RELAY)).toMatchObject({
      ok: true,
      loginUrl: ssoLoginUrl(RELAY, ORG),
    });
  });

  it('accepts a bare organisation ID, in any case', () => {
    expect(parseSsoTarget(ORG.toUpperCase(), RELAY)).toEqual({
      ok: true,
      orgId: ORG,
      loginUrl: `${RELAY}/v1/sso/saml/${ORG}/login`,
    });
  });

  it('keeps a relay mounted under a path', () => {
    const relay = 'https://example.com/texting';
    expect(parseSsoTarget(`${relay}/v1/sso/saml/${ORG}/login`, relay)).toMatchObject({
      ok: true,
      loginUrl: `${relay}/v1/sso/saml/${ORG}/login`,
    });
    expect(parseSsoTarget(`https://example.com/v1/sso/saml/${ORG}/login`, relay)).toMatchObject({
      ok: false,
    });
  });

  it('refuses a link on another origin and says which relay is configured', () => {
    const result = parseSsoTarget(`https://relay.evil.example/v1/sso/saml/${ORG}/login`, RELAY);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/relay\.evil\.example.*relay\.example\.com/);
    // Same host, other scheme or port: another origin too.
    expect(parseSsoTarget(`http://relay.example.com/v1/sso/saml/${ORG}/login`, RELAY).ok).toBe(false);
    expect(parseSsoTarget(`https://relay.example.com:8443/v1/sso/saml/${ORG}/login`, RELAY).ok).toBe(false);
  });

  it.each([
    ['', /Enter the SSO sign-in link/],
    ['acme', /neither a sign-in link nor an organisation ID/],
    ['123e4567-e89b-12d3-a456', /neither a sign-in link nor an organisation ID/],
    [`${RELAY}/v1/sso/saml/${ORG}/acs`, /not an SSO sign-in link/],
    [`${RELAY}/v1/sso/saml/not-a-uuid/login`, /not an SSO sign-in link/],
    [`${RELAY}/v1/sso/saml/${ORG}/x/login`, /not an SSO sign-in link/],
    [`${RELAY}/login`, /not an SSO sign-in link/],
    [`javascript:alert(1)`, /http:\/\/ or https:\/\//],
  ])('explains why %j is refused', (input, message) => {
    const result = parseSsoTarget(input, RELAY);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(message);
  });
});

describe('recognising the relay’s done page in the sign-in tab', () => {
  it('reads the one-time code from the done page of this relay', () => {
    expect(classifySsoTab(DONE, RELAY, ORG, false)).toEqual({ kind: 'done', code: CODE });
    expect(classifySsoTab(`${RELAY}/v1/sso/saml/done#state=x&code=${CODE}`, RELAY, ORG, true)).toEqual({
      kind: 'done',
      code: CODE,
    });
  });

  it.each([
    `https://relay.example.com.evil.example/v1/sso/saml/done#code=${CODE}`,
    `https://evil.example/v1/sso/saml/done#code=${CODE}`,
    `http://relay.example.com/v1/sso/saml/done#code=${CODE}`,
    `https://user:pw@relay.example.com/v1/sso/saml/done#code=${CODE}`,
    `${RELAY}/v1/sso/saml/done/extra#code=${CODE}`,
    `${RELAY}/x/v1/sso/saml/done#code=${CODE}`,
    `https://idp.example.com/sso?next=${encodeURIComponent(DONE)}`,
    'not a url',
  ])('ignores %s', (url) => {
    expect(classifySsoTab(url, RELAY, ORG, true)).toEqual({ kind: 'elsewhere' });
  });

  it.each([
    `${RELAY}/v1/sso/saml/done`,
    `${RELAY}/v1/sso/saml/done#code=short`,
    `${RELAY}/v1/sso/saml/done#code=${'a'.repeat(101)}`,
    `${RELAY}/v1/sso/saml/done#code=${CODE.slice(0, 20)}%20`,
    `${RELAY}/v1/sso/saml/done?code=${CODE}`,
  ])('knows the done page came without a usable code: %s', (url) => {
    expect(classifySsoTab(url, RELAY, ORG, true)).toEqual({ kind: 'done-without-code' });
  });

  it('recognises the relay’s "account not linked" done page and keeps its link token', () => {
    const page = `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=${LINK}&state=attempt-1`;
    expect(classifySsoTab(page, RELAY, ORG, true, 'attempt-1')).toEqual({
      kind: 'not-linked',
      linkToken: LINK,
    });
  });

  it.each([
    `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=short`,
    `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=${LINK}%22%3E`,
    `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED`,
    `${RELAY}/v1/sso/saml/done#error=SOMETHING_ELSE&linkToken=${LINK}`,
  ])('takes a not-linked page without a well-formed link token as a page without a code: %s', (url) => {
    expect(classifySsoTab(url, RELAY, ORG, true)).toEqual({ kind: 'done-without-code' });
  });

  it('takes someone else’s not-linked page (its state differs) as foreign', () => {
    const page = `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=${LINK}&state=theirs`;
    expect(classifySsoTab(page, RELAY, ORG, true, 'attempt-1')).toEqual({ kind: 'done-foreign' });
    const stateless = `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=${LINK}`;
    expect(classifySsoTab(stateless, RELAY, ORG, true, 'attempt-1')).toEqual({ kind: 'done-foreign' });
  });

  it('takes a tab that stopped at the relay’s login or assertion address as refused, once loaded', () => {
    expect(classifySsoTab(ssoLoginUrl(RELAY, ORG), RELAY, ORG, true)).toEqual({ kind: 'relay-refused' });
    expect(classifySsoTab(`${RELAY}/v1/sso/saml/${ORG}/acs`, RELAY, ORG, true)).toEqual({
      kind: 'relay-refused',
    });
    // Still loading: the relay may yet redirect to the identity provider.
    expect(classifySsoTab(ssoLoginUrl(RELAY, ORG), RELAY, ORG, false)).toEqual({ kind: 'elsewhere' });
  });
});

const pending = (startedAt: number): ActiveSsoState => ({
  status: 'pending',
  attemptId: 'attempt-1',
  relayUrl: RELAY,
  orgId: ORG,
  tabId: 7,
  openerTabId: 3,
  startedAt,
});

describe('pending sign-in expiry and storage shape', () => {
  it('expires ten minutes after the start', () => {
    expect(isSsoExpired(pending(1_000), 1_000 + SSO_PENDING_TTL_MS - 1)).toBe(false);
    expect(isSsoExpired(pending(1_000), 1_000 + SSO_PENDING_TTL_MS)).toBe(true);
    expect(SSO_PENDING_TTL_MS).toBe(600_000);
  });

  it('gives up on an exchange a minute old: its worker died with the code already spent', () => {
    const exchanging = { ...pending(1_000), status: 'exchanging' as const, exchangingSince: 2_000 };
    expect(parseSsoState(exchanging)).toEqual(exchanging);
    expect(isSsoExpired(exchanging, 2_000 + 59_999)).toBe(false);
    expect(isSsoExpired(exchanging, 2_000 + 60_000)).toBe(true);
    expect(parseSsoState({ ...exchanging, exchangingSince: 'soon' })).toBeNull();
  });

  it('treats an attempt dated well in the future (clock moved back) as expired', () => {
    expect(isSsoExpired(pending(10_000_000), 10_000_000 - 5 * 60_000)).toBe(true);
  });

  it('reads back what it stores and nothing else', () => {
    expect(parseSsoState(pending(5))).toEqual(pending(5));
    expect(parseSsoState({ ...pending(5), openerTabId: null })).toMatchObject({ openerTabId: null });
    expect(parseSsoState({ status: 'failed', attemptId: 'a', message: 'm', at: 1 })).toEqual({
      status: 'failed',
      attemptId: 'a',
      message: 'm',
      at: 1,
    });
    for (const bad of [
      undefined,
      null,
      'pending',
      { ...pending(5), tabId: -1 },
      { ...pending(5), orgId: 'acme' },
      { ...pending(5), attemptId: '' },
      { ...pending(5), status: 'waiting' },
      { status: 'cancelled', attemptId: 'a', reason: 'bored', at: 1 },
    ])
      expect(parseSsoState(bad)).toBeNull();
  });
});

class MemoryStore implements SessionStore {
  session: AuthSession | null = null;
  async get() {
    return this.session;
  }
  async set(session: AuthSession) {
    this.session = session;
  }
  async clear() {
    this.session = null;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** The browser as the coordinator sees it: session storage, tabs, and the relay behind a fake fetch. */
function fakeBrowser(answer: (url: string, body: unknown) => Response | Promise<Response>) {
  const storage = new Map<string, unknown>();
  const tabs = new Set<number>();
  const opened: Array<{ url: string; opener: number | null }> = [];
  const focused: number[] = [];
  const exchanged: unknown[] = [];
  const remembered: Array<{ relayUrl: string; orgId: string }> = [];
  const store = new MemoryStore();
  let nextTab = 100;
  let clock = 1_000_000;
  let ids = 0;
  let permitted = true;
  const fetch = async (url: string, init: RequestInit) => {
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    if (url.endsWith('/exchange')) exchanged.push(body);
    return answer(url, body);
  };
  const ports: SsoPorts = {
    load: async () => structuredClone(storage.get('ssoSignIn')),
    save: async (state) => {
      storage.set('ssoSignIn', structuredClone(state));
    },
    mayReadRelayTabs: async () => permitted,
    openTab: async (url, opener) => {
      const id = nextTab++;
      tabs.add(id);
      opened.push({ url, opener });
      return id;
    },
    closeTab: async (id) => {
      if (!tabs.delete(id)) throw new Error('No tab with id');
    },
    focusTab: async (id) => {
      focused.push(id);
    },
    exchange: (relayUrl, code) => new AuthApi(relayUrl, fetch).exchange(code),
    accountName: async (relayUrl, token) => {
      const response = await fetch(`${relayUrl}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
      return ((await response.json()) as { displayName: string }).displayName;
    },
    rememberOrg: async (relayUrl, orgId) => {
      remembered.push({ relayUrl, orgId });
    },
    store,
    now: () => clock,
    newId: () => `attempt-${++ids}`,
  };
  return {
    ports,
    storage,
    tabs,
    opened,
    focused,
    exchanged,
    remembered,
    store,
    state: () => parseSsoState(storage.get('ssoSignIn')),
    advance: (ms: number) => {
      clock += ms;
    },
    deny: () => {
      permitted = false;
    },
    /** A new coordinator on the same storage: the worker was suspended and woke up. */
    restart: () => new SsoCoordinator(ports),
  };
}

const tokens = { accessToken: 'access-1', refreshToken: 'refresh-1', accessTokenExpiresAt: EXPIRES };

describe('the background’s SSO sign-in', () => {
  it('opens the login tab, trades the code from the done page, stores the session and closes the tab', async () => {
    const b = fakeBrowser(() => json(201, { ...tokens, sessionId: 's1', email: 'ada@example.com' }));
    const sso = new SsoCoordinator(b.ports);
    expect(await sso.start(RELAY, ORG, 3)).toEqual({ ok: true, attemptId: 'attempt-1' });
    // The attempt's id goes along as its state, so only this sign-in's code is ever traded.
    expect(b.opened).toEqual([{ url: `${RELAY}/v1/sso/saml/${ORG}/login?state=attempt-1`, opener: 3 }]);
    expect(b.state()).toMatchObject({ status: 'pending', tabId: 100, orgId: ORG });

    // The identity provider's pages are none of our business.
    await sso.tabUpdated(100, 'https://idp.example.com/login?SAMLRequest=x', false);
    await sso.tabUpdated(100, 'https://idp.example.com/login?SAMLRequest=x', true);
    expect(b.state()?.status).toBe('pending');

    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    expect(b.exchanged).toEqual([{ code: CODE }]);
    expect(b.store.session).toEqual({
      relayUrl: RELAY,
      email: 'ada@example.com',
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: Date.parse(EXPIRES),
    });
    expect(b.state()).toMatchObject({
      status: 'signed-in',
      attemptId: 'attempt-1',
      email: 'ada@example.com',
    });
    expect(b.tabs.size).toBe(0);
    expect(b.focused).toEqual([3]);
    expect(b.remembered).toEqual([{ relayUrl: RELAY, orgId: ORG }]);
  });

  it('exchanges a code once even when the tab reports the done page several times', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const b = fakeBrowser(async () => {
      await gate;
      return json(201, { ...tokens, email: 'ada@example.com' });
    });
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    const first = sso.tabUpdated(100, doneFor('attempt-1'), false);
    const second = sso.tabUpdated(100, doneFor('attempt-1'), true);
    release();
    await Promise.all([first, second]);
    expect(b.exchanged).toHaveLength(1);
    expect(b.state()?.status).toBe('signed-in');
  });

  it('picks the attempt up again in a worker that was suspended while the rep was at the IdP', async () => {
    const b = fakeBrowser(() => json(201, { ...tokens, email: 'ada@example.com' }));
    await new SsoCoordinator(b.ports).start(RELAY, ORG, null);
    await b.restart().tabUpdated(100, doneFor('attempt-1'), false);
    expect(b.store.session?.accessToken).toBe('access-1');
  });

  it('names the account from /v1/me when the relay’s exchange answer carries no email', async () => {
    const b = fakeBrowser((url) =>
      url.endsWith('/v1/me') ? json(200, { displayName: 'ada@example.com' }) : json(201, tokens),
    );
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    expect(b.store.session?.email).toBe('ada@example.com');
  });

  it('ignores other tabs, other relays and look-alike done pages', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(55, doneFor('attempt-1'), false);
    await sso.tabUpdated(100, `https://evil.example/v1/sso/saml/done#code=${CODE}`, true);
    expect(b.exchanged).toHaveLength(0);
    expect(b.state()?.status).toBe('pending');
  });

  it('never trades a code from a sign-in this attempt did not start (login CSRF)', async () => {
    const b = fakeBrowser(() => json(201, { ...tokens, sessionId: 's1', email: 'mallory@example.com' }));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(100, doneFor('someone-elses-state'), false);
    expect(b.state()).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/not started from this extension/),
    });
    expect(b.exchanged).toEqual([]);
    expect(await b.ports.store.get()).toBeNull();
  });

  it('hands the options page the link step when the IdP named an account not linked to it yet', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, 3);
    await sso.tabUpdated(
      100,
      `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=${LINK}&state=attempt-1`,
      false,
    );
    expect(b.state()).toEqual({
      status: 'not-linked',
      attemptId: 'attempt-1',
      relayUrl: RELAY,
      orgId: ORG,
      linkToken: LINK,
      at: 1_000_000,
    });
    expect(b.exchanged).toEqual([]);
    expect(b.store.session).toBeNull();
    expect(b.tabs.size).toBe(0);
    expect(b.focused).toEqual([3]);
    expect(b.remembered).toEqual([]);
  });

  it('never offers to link from a sign-in this attempt did not start', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(
      100,
      `${RELAY}/v1/sso/saml/done#error=SSO_ACCOUNT_NOT_LINKED&linkToken=${LINK}&state=someone-elses-state`,
      false,
    );
    expect(b.state()).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/not started from this extension/),
    });
    expect(JSON.stringify([...b.storage.values()])).not.toContain(LINK);
  });

  it('hands the options page the second-factor step when the exchange asks for it, storing no session', async () => {
    const b = fakeBrowser(() =>
      json(200, { mfaRequired: true, mfaToken: 'mfa-1', factors: ['totp'], email: 'tess@example.com' }),
    );
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, 3);
    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    expect(b.exchanged).toEqual([{ code: CODE }]);
    expect(b.state()).toEqual({
      status: 'mfa-required',
      attemptId: 'attempt-1',
      relayUrl: RELAY,
      orgId: ORG,
      email: 'tess@example.com',
      mfaToken: 'mfa-1',
      factors: ['totp'],
      at: 1_000_000,
    });
    expect(b.store.session).toBeNull();
    expect(b.tabs.size).toBe(0);
    expect(b.focused).toEqual([3]);
  });

  it('reports a used or expired code in plain words and closes the tab', async () => {
    const b = fakeBrowser(() =>
      json(401, { error: { code: 'INVALID_CODE', message: 'unknown', details: null } }),
    );
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    const state = b.state();
    expect(state?.status).toBe('failed');
    expect(state?.status === 'failed' && state.message).toMatch(/expired or was already used/);
    expect(b.store.session).toBeNull();
    expect(b.tabs.size).toBe(0);
    // Only an organisation that worked is offered next time.
    expect(b.remembered).toEqual([]);
  });

  it('reports an unreachable relay', async () => {
    const b = fakeBrowser(() => {
      throw new TypeError('Failed to fetch');
    });
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    const state = b.state();
    expect(state?.status === 'failed' && state.message).toMatch(/could not reach the relay/i);
  });

  it('fails without calling the relay when the done page has no valid code', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(100, `${RELAY}/v1/sso/saml/done#code=bad`, false);
    expect(b.exchanged).toHaveLength(0);
    expect(b.state()?.status).toBe('failed');
  });

  it('leaves a tab the relay refused open (its reason is there) and says so', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.tabUpdated(100, `${RELAY}/v1/sso/saml/${ORG}/acs`, true);
    const state = b.state();
    expect(state?.status === 'failed' && state.message).toMatch(/reason is shown in the sign-in tab/);
    expect(b.tabs.has(100)).toBe(true);
  });

  it('cancels when the rep closes the sign-in tab', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    b.tabs.delete(100);
    await sso.tabRemoved(100);
    expect(b.state()).toMatchObject({ status: 'cancelled', reason: 'tab-closed' });
    // A done page arriving later (another tab, same id reused) is not acted on.
    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    expect(b.exchanged).toHaveLength(0);
  });

  it('cancels from the options page and closes the tab', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    await sso.cancel();
    expect(b.state()).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(b.tabs.size).toBe(0);
  });

  it('expires a sign-in after ten minutes, on the alarm or on the next tab event', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    b.advance(SSO_PENDING_TTL_MS - 1_000);
    await sso.expire();
    expect(b.state()?.status).toBe('pending');
    b.advance(1_000);
    await sso.expire();
    expect(b.state()).toMatchObject({ status: 'cancelled', reason: 'expired' });

    await sso.start(RELAY, ORG, null);
    b.advance(SSO_PENDING_TTL_MS);
    await sso.tabUpdated(101, doneFor('attempt-2'), false);
    expect(b.exchanged).toHaveLength(0);
    expect(b.state()).toMatchObject({ status: 'cancelled', reason: 'expired', attemptId: 'attempt-2' });
  });

  it('replaces a first attempt with a second one, closing the first tab', async () => {
    const b = fakeBrowser(() => json(201, { ...tokens, email: 'ada@example.com' }));
    const sso = new SsoCoordinator(b.ports);
    await sso.start(RELAY, ORG, null);
    expect(await sso.start(RELAY, ORG, null)).toEqual({ ok: true, attemptId: 'attempt-2' });
    expect([...b.tabs]).toEqual([101]);
    // The first tab's removal no longer cancels anything; its done page is not acted on.
    await sso.tabRemoved(100);
    await sso.tabUpdated(100, doneFor('attempt-1'), false);
    expect(b.state()).toMatchObject({ status: 'pending', attemptId: 'attempt-2' });
    await sso.tabUpdated(101, doneFor('attempt-2'), false);
    expect(b.state()).toMatchObject({ status: 'signed-in', attemptId: 'attempt-2' });
  });

  it('does not start without access to the relay’s origin (the code would be unreadable)', async () => {
    const b = fakeBrowser(() => json(201, tokens));
    b.deny();
    const result = await new SsoCoordinator(b.ports).start(RELAY, ORG, null);
    expect(result).toEqual({
      ok: false,
      message: 'The extension needs permission to reach https://relay.example.com to finish SSO sign-in.',
    });
    expect(b.opened).toHaveLength(0);
  });
});
