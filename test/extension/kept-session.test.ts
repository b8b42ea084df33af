// @vitest-environment node
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { AuthApi } from '../../extension/lib/auth/auth-api.ts';
import { parseIssuedTokens } from '../../extension/lib/auth/auth-responses.ts';
import type { AuthSession, SessionStore } from '../../extension/lib/auth/session.ts';
import { SEALED_SESSION_KEY, SealedSessionVault } from '../../extension/lib/auth/session-vault.ts';
import { TokenRefresher } from '../../extension/lib/auth/token-refresher.ts';
import { KeptSessionFollower } from '../../extension/lib/background/kept-session.ts';

// Staying signed in across browser restarts: the refresh token sealed with a key that cannot be
// exported, opened once at start-up and spent at once (rotation), forgotten on any refusal.

const RELAY = 'http://relay.test';
const EXPIRES = '2030-01-01T00:10:00.000Z';

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

/** `browser.storage.local` as a plain map (what lies on disk, for the assertions). */
function memoryLocal() {
  const data: Record<string, unknown> = {};
  return {
    data,
    async get(key: string) {
      return key in data ? { [key]: data[key] } : {};
    },
    async set(items: Record<string, unknown>) {
      Object.assign(data, items);
    },
    async remove(key: string) {
      delete data[key];
    },
  };
}

/** A vault on fresh IndexedDB and local storage; `idb` is what survives a "restart". */
function vaultOn(idb = new IDBFactory(), local = memoryLocal()) {
  return { idb, local, vault: new SealedSessionVault({ local, indexedDB: idb, subtle: crypto.subtle }) };
}

function storedKey(idb: IDBFactory): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = idb.open('crm-texting-vault', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onsuccess = () => {
      const get = open.result.transaction('keys').objectStore('keys').get('session');
      get.onsuccess = () => {
        open.result.close();
        resolve(get.result);
      };
      get.onerror = () => reject(get.error);
    };
    open.onerror = () => reject(open.error);
  });
}

const tokens = (n: number, requireSignInEachBrowserSession = false) => ({
  sessionId: 's1',
  accessToken: `access-${n}`,
  accessTokenExpiresAt: EXPIRES,
  refreshToken: `ctr_refresh-${n}`,
  requireSignInEachBrowserSession,
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const refused = () =>
  json(401, { error: { code: 'INVALID_REFRESH_TOKEN', message: 'revoked', details: null } });

/** An AuthApi whose relay answers `answer`, recording the paths and bodies it was sent. */
function relayAnswering(answer: (path: string) => Response) {
  const calls: Array<{ path: string; body: unknown }> = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname;
    calls.push({ path, body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined });
    return answer(path);
  });
  return { calls, api: () => new AuthApi(RELAY, fetch) };
}

const kept = (n: number) => ({ relayUrl: RELAY, email: 'rep@example.com', refreshToken: `ctr_refresh-${n}` });

describe('the sealed session vault', () => {
  it('keeps the refresh token sealed on disk under a key that cannot be exported', async () => {
    const { idb, local, vault } = vaultOn();
    await vault.keep(kept(1));
    expect(JSON.stringify(local.data)).not.toContain('ctr_refresh-1');
    expect(local.data[SEALED_SESSION_KEY]).toEqual({ iv: expect.any(String), data: expect.any(String) });
    const key = await storedKey(idb);
    expect(key).toBeInstanceOf(CryptoKey);
    expect((key as CryptoKey).extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key as CryptoKey)).rejects.toThrow();
    // A "restart": a new vault on the same storage opens what the old one kept.
    expect(await vaultOn(idb, local).vault.open()).toEqual(kept(1));
  });

  it('forgets both the sealed token and its key', async () => {
    const { idb, local, vault } = vaultOn();
    await vault.keep(kept(1));
    await vault.forget();
    expect(local.data).toEqual({});
    expect(await storedKey(idb)).toBeUndefined();
    expect(await vault.open()).toBeNull();
  });

  it('drops a sealed token whose key is gone: a copied token alone opens nothing', async () => {
    const { local, vault } = vaultOn();
    await vault.keep(kept(1));
    // The sealed value copied to another profile (another IndexedDB, so no key).
    const elsewhere = vaultOn(new IDBFactory(), memoryLocal());
    await elsewhere.local.set({ [SEALED_SESSION_KEY]: local.data[SEALED_SESSION_KEY] });
    expect(await elsewhere.vault.open()).toBeNull();
    expect(elsewhere.local.data).toEqual({});
  });
});

describe('opening a kept session after a browser restart', () => {
  it('spends the kept refresh token at once and keeps the rotated one', async () => {
    const { vault } = vaultOn();
    await vault.keep(kept(1));
    const store = new MemoryStore();
    const relay = relayAnswering(() => json(200, tokens(2)));
    const refresher = new TokenRefresher({ store, api: relay.api, vault });
    expect(await refresher.refresh()).toEqual({ ok: true });
    expect(relay.calls).toEqual([{ path: '/v1/auth/refresh', body: { refreshToken: 'ctr_refresh-1' } }]);
    expect(store.session).toMatchObject({ email: 'rep@example.com', accessToken: 'access-2' });
    expect(await vault.open()).toEqual(kept(2));
  });

  it('forgets the kept session and says so when the relay refuses it (signed out, timed out)', async () => {
    const { vault, local } = vaultOn();
    await vault.keep(kept(1));
    const store = new MemoryStore();
    const refresher = new TokenRefresher({ store, api: relayAnswering(refused).api, vault });
    expect(await refresher.refresh()).toEqual({ ok: false, signedOut: true });
    expect(store.session).toBeNull();
    expect(store.cleared).toEqual(['expired']);
    expect(local.data).toEqual({});
  });

  it('keeps the sealed token for the next try while the relay is unreachable', async () => {
    const { vault } = vaultOn();
    await vault.keep(kept(1));
    const store = new MemoryStore();
    const offline = () => new AuthApi(RELAY, async () => Promise.reject(new TypeError('offline')));
    const refresher = new TokenRefresher({ store, api: offline, vault });
    expect(await refresher.refresh()).toEqual({ ok: false, signedOut: false });
    expect(await vault.open()).toEqual(kept(1));
  });

  it('ends the resumed session when the org now requires a sign-in each browser session', async () => {
    const { vault, local } = vaultOn();
    await vault.keep(kept(1));
    const store = new MemoryStore();
    const relay = relayAnswering((path) =>
      path === '/v1/auth/refresh' ? json(200, tokens(2, true)) : new Response(null, { status: 204 }),
    );
    const refresher = new TokenRefresher({ store, api: relay.api, vault });
    expect(await refresher.refresh()).toEqual({ ok: false, signedOut: true });
    expect(relay.calls.map((c) => c.path)).toEqual(['/v1/auth/refresh', '/v1/auth/logout']);
    expect(store.session).toBeNull();
    expect(local.data).toEqual({});
  });

  it('does nothing without a kept session, and never resumes for a 401', async () => {
    const { vault } = vaultOn();
    const store = new MemoryStore();
    const relay = relayAnswering(() => json(200, tokens(2)));
    const refresher = new TokenRefresher({ store, api: relay.api, vault });
    expect(await refresher.refresh()).toEqual({ ok: false, signedOut: false });
    await vault.keep(kept(1));
    expect(await refresher.refresh('access-0')).toEqual({ ok: false, signedOut: false });
    expect(relay.calls).toEqual([]);
  });
});

describe('keeping the session in step', () => {
  const session = (n: number, keepSignedIn: boolean): AuthSession => ({
    relayUrl: RELAY,
    email: 'rep@example.com',
    accessToken: `access-${n}`,
    refreshToken: `ctr_refresh-${n}`,
    expiresAt: Date.parse(EXPIRES),
    keepSignedIn,
  });

  it('seals every rotated refresh token before it stores the session', async () => {
    const { vault } = vaultOn();
    const store = new MemoryStore();
    store.session = session(1, true);
    const refresher = new TokenRefresher({
      store,
      api: relayAnswering(() => json(200, tokens(2))).api,
      vault,
    });
    const set = vi.spyOn(store, 'set').mockImplementation(async (next) => {
      // By the time the session changes, the vault already holds its (unspent) refresh token.
      expect(await vault.open()).toEqual(kept(2));
      store.session = next;
    });
    expect(await refresher.refresh()).toEqual({ ok: true });
    expect(set).toHaveBeenCalledOnce();
  });

  it('keeps nothing once a refresh says the org requires a sign-in each browser session', async () => {
    const { vault, local } = vaultOn();
    await vault.keep(kept(1));
    const store = new MemoryStore();
    store.session = session(1, true);
    const api = relayAnswering(() => json(200, tokens(2, true))).api;
    expect(await new TokenRefresher({ store, api, vault }).refresh()).toEqual({ ok: true });
    expect(store.session?.keepSignedIn).toBe(false);
    expect(local.data).toEqual({});
  });

  it('follows sign-ins and sign-outs made elsewhere (options page, SSO)', async () => {
    const { vault, local } = vaultOn();
    const store = new MemoryStore();
    const follower = new KeptSessionFollower(store, vault);
    store.session = session(3, true);
    follower.follow();
    await follower.settled();
    expect(await vault.open()).toEqual(kept(3));
    store.session = null;
    follower.follow();
    await follower.settled();
    expect(local.data).toEqual({});
    store.session = session(4, false);
    follower.follow();
    await follower.settled();
    expect(local.data).toEqual({});
  });

  it('lets a session be kept only when the relay says the org does not forbid it', () => {
    const body = { accessToken: 'a', refreshToken: 'r', accessTokenExpiresAt: EXPIRES };
    expect(parseIssuedTokens({ ...body, requireSignInEachBrowserSession: false }).keepSignedIn).toBe(true);
    expect(parseIssuedTokens({ ...body, requireSignInEachBrowserSession: true }).keepSignedIn).toBe(false);
    expect(parseIssuedTokens(body).keepSignedIn).toBe(false);
  });
});
