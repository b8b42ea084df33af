// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import type { AuthSession, SessionStore } from '../../extension/lib/auth/session.ts';
import { TokenRefresher } from '../../extension/lib/auth/token-refresher.ts';

// wxt/browser resolves the extension API from globalThis.chrome when no `browser` global is set.
(globalThis as { chrome?: unknown }).chrome = fakeBrowser;
const { RefreshSchedule } = await import('../../extension/lib/background/refresh-schedule.ts');
const { answerProtocolMessage, answerStoreRequest } = await import(
  '../../extension/lib/background/message-handlers.ts'
);
const { notificationClicked, showInboundNotification } = await import(
  '../../extension/lib/background/desktop-notifications.ts'
);
const { SsoCoordinator } = await import('../../extension/lib/auth/sso-coordinator.ts');
const { browserSsoPorts } = await import('../../extension/lib/background/sso-ports.ts');

const NOW = 1_800_000_000_000;
const ORIGIN = fakeBrowser.runtime.getURL('/');
const optionsPage = { id: fakeBrowser.runtime.id, url: `${ORIGIN}options.html` };
const contentScript = {
  id: fakeBrowser.runtime.id,
  url: 'https://app.hubspot.com/contacts/1/record/0-1/2',
  tab: { id: 7 },
};

function memoryStore(initial: AuthSession | null): SessionStore & { session: AuthSession | null } {
  return {
    session: initial,
    async get() {
      return this.session;
    },
    async set(session) {
      this.session = session;
    },
    async clear() {
      this.session = null;
    },
  };
}

const session: AuthSession = {
  relayUrl: 'https://relay.example',
  email: 'ada@example.com',
  accessToken: 'access-1',
  refreshToken: 'refresh-1',
  expiresAt: NOW + 5 * 60_000,
};

function refresherFor(store: SessionStore, refresh = vi.fn()) {
  refresh.mockResolvedValue({
    accessToken: 'access-2',
    refreshToken: 'refresh-2',
    expiresAt: NOW + 3_600_000,
  });
  return {
    refresh,
    refresher: new TokenRefresher({ store, api: () => ({ refresh, logout: vi.fn() }), now: () => NOW }),
  };
}

beforeEach(() => {
  fakeBrowser.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('background refresh schedule', () => {
  it('refreshes the session a minute before it expires, not earlier', async () => {
    vi.useFakeTimers();
    const store = memoryStore(session);
    const { refresh, refresher } = refresherFor(store);
    new RefreshSchedule(refresher, store).reschedule();
    await vi.advanceTimersByTimeAsync(4 * 60_000 - 1);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(refresh).toHaveBeenCalledWith('refresh-1');
    expect(store.session?.accessToken).toBe('access-2');
  });

  it('plans nothing when nobody is signed in', async () => {
    vi.useFakeTimers();
    const store = memoryStore(null);
    const { refresh, refresher } = refresherFor(store);
    new RefreshSchedule(refresher, store).reschedule();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(refresh).not.toHaveBeenCalled();
  });
});

describe('background runtime messages', () => {
  const services = () => {
    const store = memoryStore(session);
    const { refresh, refresher } = refresherFor(store);
    return { refresh, refresher, sso: new SsoCoordinator(browserSsoPorts()), sessions: store };
  };

  it('answers a refresh request from the options page through sendResponse', async () => {
    const { refresh, refresher, sso, sessions } = services();
    const sendResponse = vi.fn();
    const raw = { type: 'auth-refresh', staleAccessToken: 'access-1' };
    expect(answerProtocolMessage(raw, optionsPage, sendResponse, { refresher, sso, sessions })).toBe(true);
    await vi.waitFor(() => expect(sendResponse).toHaveBeenCalledWith({ ok: true, accessToken: 'access-2' }));
    expect(refresh).toHaveBeenCalledOnce();
  });

  it('ignores an SSO start from a content script, which runs inside a page we do not control', () => {
    const { refresher, sso, sessions } = services();
    const start = vi.spyOn(sso, 'start');
    const sendResponse = vi.fn();
    const raw = { type: 'sso-start', relayUrl: 'https://relay.example', orgId: crypto.randomUUID() };
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(
      answerProtocolMessage(raw, contentScript, sendResponse, { refresher, sso, sessions }),
    ).toBeUndefined();
    expect(start).not.toHaveBeenCalled();
    expect(sendResponse).not.toHaveBeenCalled();
  });

  it('leaves messages that are not store requests to the other listener', () => {
    const storeFor = vi.fn();
    expect(answerStoreRequest({ type: 'open-options' }, optionsPage, vi.fn(), storeFor)).toBeUndefined();
    expect(storeFor).not.toHaveBeenCalled();
  });
});

describe('background desktop notifications', () => {
  function stubNotifications() {
    const create = vi.fn(async (id: string) => id);
    const clear = vi.fn(async () => true);
    const openTab = vi.fn(async () => ({ id: 9 }));
    Object.assign(fakeBrowser.notifications, { create, clear });
    Object.assign(fakeBrowser.tabs, { create: openTab });
    return { create, clear, openTab };
  }

  it('opens the contact page remembered for a clicked notification, once', async () => {
    const { create, openTab } = stubNotifications();
    const page = 'https://app.hubspot.com/contacts/1/record/0-1/2';
    showInboundNotification({ id: 'm1', title: 'Text from Ada', message: 'Hi', pageUrl: page });
    await vi.waitFor(async () =>
      expect(await fakeBrowser.storage.session.get('notificationPage:m1')).toEqual({
        'notificationPage:m1': page,
      }),
    );
    expect(create).toHaveBeenCalledWith('inbound:m1', expect.objectContaining({ title: 'Text from Ada' }));
    notificationClicked('inbound:m1');
    await vi.waitFor(() => expect(openTab).toHaveBeenCalledWith({ url: page }));
    expect(await fakeBrowser.storage.session.get('notificationPage:m1')).toEqual({});
  });

  it('never opens a remembered page that is not a web address', async () => {
    const { clear, openTab } = stubNotifications();
    await fakeBrowser.storage.session.set({ 'notificationPage:m2': 'javascript:alert(1)' });
    notificationClicked('inbound:m2');
    await vi.waitFor(() => expect(clear).toHaveBeenCalledWith('inbound:m2'));
    expect(openTab).not.toHaveBeenCalled();
  });
});
