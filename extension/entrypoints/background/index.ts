import { type Browser, browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { AuthApi } from '../../lib/auth/auth-api.ts';
import { SsoCoordinator } from '../../lib/auth/sso-coordinator.ts';
import { SSO_LAST_ORG_KEY } from '../../lib/auth/sso-login.ts';
import { SSO_STATE_KEY } from '../../lib/auth/sso-state.ts';
import { TokenRefresher } from '../../lib/auth/token-refresher.ts';
import { InboundNotifier } from '../../lib/background/inbound-notifier.ts';
import {
  type AuthRefreshResponse,
  backgroundAccepts,
  parseProtocolMessage,
  type SsoStartResponse,
} from '../../lib/messages/extension-messages.ts';
import { runEventStream } from '../../lib/relay/event-stream.ts';
import { RelayClient } from '../../lib/relay/relay-client.ts';
import { type Me, parseMessageEnvelope } from '../../lib/relay-types.ts';
import {
  AUTH_SESSION_KEY,
  browserSessionStore,
  credentialOf,
  effectiveNotificationPreference,
  loadNotificationPreference,
  loadSettings,
} from '../../lib/settings.ts';
import {
  contactForConversation,
  type LocalStore,
  openLocalStore,
  scopeOf,
} from '../../lib/store/local-store.ts';
import type { StoreEvent, StoreResponse } from '../../lib/store/store-messages.ts';
import { handleStoreMessage } from '../../lib/store/store-request-handler.ts';

const TICK_ALARM = 'crm-texting-tick';
const CURSOR_KEY = 'eventsCursor';
/** Session-storage prefix of the CRM page a notification opens, by message id. */
const NOTIFICATION_PAGE = 'notificationPage:';

// Wiring only: every message is parsed and its sender checked before anything happens.
export default defineBackground(() => {
  const refresher = new TokenRefresher({
    store: browserSessionStore,
    api: (relayUrl) => new AuthApi(relayUrl),
  });
  const refresh = (): void => {
    refresher.refresh().catch((error: unknown) => console.error('[crm-texting] refresh failed', error));
  };

  // Refresh shortly before expiry. The timer covers a live worker; the alarm (which wakes a suspended
  // worker) covers the rest, and a 401 in a panel is the last resort.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = async (): Promise<void> => {
    clearTimeout(timer);
    const session = await browserSessionStore.get();
    if (!session) return;
    const delay = refresher.delayFor(session);
    if (delay === 0) refresh();
    else timer = setTimeout(refresh, delay);
  };

  // Per signed-in identity: the relay client, the local store (saved threads, drafts, the offline
  // outbox, all in IndexedDB here, where the extension is first-party) and one live stream that
  // raises notifications and tells the outbox when the relay answers again. The stream resumes from
  // the last event seen, so a worker woken by the alarm catches up on what arrived while it slept.
  interface Context {
    key: string;
    controller: AbortController;
    store: Promise<LocalStore | null>;
  }
  let context: Context | null = null;
  const broadcast = (event: StoreEvent): void => {
    // Every open panel gets it; with none open there is no receiver, which is fine.
    browser.runtime.sendMessage(event).catch(() => undefined);
  };
  const buildContext = async (): Promise<Context | null> => {
    const settings = await loadSettings();
    const credential = credentialOf(settings);
    // The store's scope names the relay and the identity (a session's email, a key's hash), so
    // replacing one API key by another rebuilds everything for the new one.
    const key = credential ? await scopeOf(settings) : null;
    if (context && context.key === key) return context;
    context?.controller.abort();
    void context?.store.then((s) => s?.close());
    context = null;
    if (!key || !credential) return null;
    const controller = new AbortController();
    const client = new RelayClient({
      baseUrl: settings.relayUrl,
      apiKey: credential,
      ...(settings.session
        ? {
            onUnauthorized: async (stale: string) => {
              const result = await refresher.refresh(stale);
              return result.ok ? ((await browserSessionStore.get())?.accessToken ?? null) : null;
            },
          }
        : {}),
    });
    const store = openLocalStore(settings, {
      send: (input, idempotencyKey) => client.sendMessage(input, idempotencyKey),
      onChange: () => broadcast({ type: 'store-event', kind: 'changed' }),
      onSent: (contactKey, message) => broadcast({ type: 'store-event', kind: 'sent', contactKey, message }),
    }).catch((error: unknown) => {
      console.warn('[crm-texting] local store unavailable', error);
      return null;
    });
    const current: Context = { key, controller, store };
    context = current;
    let me: Me | null = null;
    const notifier = new InboundNotifier({
      preference: async () => {
        me ??= await client.me(controller.signal).catch(() => null);
        const own = await loadNotificationPreference();
        const pref = effectiveNotificationPreference(own, me?.extension.locked.notifications ?? null);
        // An API key without a user owns no conversations: "mine" means every text it can see.
        return pref === 'mine' && me !== null && me.userId === null ? 'all' : pref;
      },
      myConversations: () => client.conversations({ mine: true }, controller.signal),
      // Texts carry their sender's name, which for a signed-in rep is their email.
      isOwnText: (m) =>
        me !== null && m.sentBy !== null && (m.sentBy === me.email || m.sentBy === me.displayName),
      contactFor: contactForConversation,
      notify: (n) => {
        browser.notifications
          .create(`inbound:${n.id}`, {
            type: 'basic',
            iconUrl: browser.runtime.getURL('/icon/128.png'),
            title: n.title,
            message: n.message,
            ...(n.pageUrl ? { contextMessage: 'Click to open the contact' } : {}),
          })
          .then(() => {
            // Kept in session storage: the worker is usually asleep by the time the rep clicks.
            if (n.pageUrl) return browser.storage.session.set({ [`${NOTIFICATION_PAGE}${n.id}`]: n.pageUrl });
            return undefined;
          })
          .catch((error: unknown) => console.warn('[crm-texting] notification failed', error));
      },
    });
    const cursorKey = `${CURSOR_KEY}:${key}`;
    const stored = (await browser.storage.session.get(cursorKey))[cursorKey];
    const { url, headers } = client.eventStreamRequest();
    runEventStream({
      url,
      headers,
      fetch: client.fetcher,
      signal: controller.signal,
      ...(typeof stored === 'string' && stored !== '' ? { lastEventId: stored } : {}),
      onState: (state) => {
        if (state.kind === 'open') void store.then((s) => s?.flushSoon());
      },
      onEvent: (event) => {
        if (event.lastEventId)
          browser.storage.session.set({ [cursorKey]: event.lastEventId }).catch(() => undefined);
        if (event.event !== 'message.created' && event.event !== 'message.updated') return;
        try {
          const message = parseMessageEnvelope(JSON.parse(event.data));
          notifier.noteOutbound(message);
          notifier.handle(message, event.event).catch(() => undefined);
        } catch (error) {
          console.warn('[crm-texting] ignored malformed live event', error);
        }
      },
    })
      .catch((error: unknown) => console.warn('[crm-texting] live stream stopped', error))
      .finally(() => {
        // A stream that ended (401, relay gone for good) is rebuilt on the next alarm.
        if (context === current) {
          context = null;
          void store.then((s) => s?.close());
        }
      });
    return current;
  };
  // Calls overlap (a panel's request while the alarm wakes the worker): they share one build.
  let building: Promise<Context | null> | null = null;
  const ensureContext = (): Promise<Context | null> => {
    building ??= buildContext().finally(() => {
      building = null;
    });
    return building;
  };
  const storeFor = async (): Promise<LocalStore | null> => (await ensureContext())?.store ?? null;

  const openNotified = async (id: string): Promise<void> => {
    const key = `${NOTIFICATION_PAGE}${id.replace(/^inbound:/, '')}`;
    const pageUrl = (await browser.storage.session.get(key))[key];
    await browser.storage.session.remove(key);
    await browser.notifications.clear(id);
    if (typeof pageUrl === 'string' && /^https?:\/\//.test(pageUrl))
      await browser.tabs.create({ url: pageUrl });
  };
  browser.notifications.onClicked.addListener((id: string) => {
    openNotified(id).catch(() => undefined);
  });
  browser.notifications.onClosed.addListener((id: string) => {
    browser.storage.session
      .remove(`${NOTIFICATION_PAGE}${id.replace(/^inbound:/, '')}`)
      .catch(() => undefined);
  });

  // "Sign in with SSO": the attempt lives in session storage, so these listeners (registered on every
  // start of the worker) pick it up again when a tab event wakes a worker that slept meanwhile.
  const sso = new SsoCoordinator({
    load: async () => (await browser.storage.session.get(SSO_STATE_KEY))[SSO_STATE_KEY],
    save: (state) => browser.storage.session.set({ [SSO_STATE_KEY]: state }),
    mayReadRelayTabs: (relayUrl) =>
      browser.permissions.contains({ origins: [`${new URL(relayUrl).origin}/*`] }),
    openTab: async (url, openerTabId) => {
      const tab = await browser.tabs.create({
        url,
        active: true,
        ...(openerTabId === null ? {} : { openerTabId }),
      });
      if (tab.id === undefined) throw new Error('the browser gave the new tab no id');
      return tab.id;
    },
    closeTab: (tabId) => browser.tabs.remove(tabId),
    focusTab: async (tabId) => {
      await browser.tabs.update(tabId, { active: true });
    },
    exchange: (relayUrl, code) => new AuthApi(relayUrl).exchange(code),
    accountName: async (relayUrl, accessToken) => {
      const me = await new RelayClient({ baseUrl: relayUrl, apiKey: accessToken }).me();
      return me.email ?? me.displayName ?? `${me.role} at ${me.orgName}`;
    },
    rememberOrg: (relayUrl, orgId) => browser.storage.local.set({ [SSO_LAST_ORG_KEY]: { relayUrl, orgId } }),
    store: browserSessionStore,
    now: Date.now,
    newId: () => crypto.randomUUID(),
  });
  const ssoFailed = (error: unknown): void => console.error('[crm-texting] SSO sign-in step failed', error);
  browser.tabs.onUpdated.addListener(
    (tabId: number, change: Browser.tabs.OnUpdatedInfo, tab: Browser.tabs.Tab) => {
      if (change.url === undefined && change.status !== 'complete') return;
      sso.tabUpdated(tabId, change.url ?? tab.url, change.status === 'complete').catch(ssoFailed);
    },
  );
  browser.tabs.onRemoved.addListener((tabId: number) => {
    sso.tabRemoved(tabId).catch(ssoFailed);
  });

  const wake = (): void => {
    schedule().catch(() => undefined);
    ensureContext()
      .then((c) => c?.store)
      .then((store) => store?.flushSoon())
      .catch((error: unknown) => console.warn('[crm-texting] background setup failed', error));
  };
  Promise.resolve(browser.alarms.create(TICK_ALARM, { periodInMinutes: 0.5 })).catch(() => undefined);
  browser.alarms.onAlarm.addListener((alarm: Browser.alarms.Alarm) => {
    if (alarm.name !== TICK_ALARM) return;
    wake();
    sso.expire().catch(ssoFailed);
  });
  wake();
  browser.storage.onChanged.addListener((changes: Record<string, unknown>, area: string) => {
    if (area === 'session' && AUTH_SESSION_KEY in changes) wake();
    if (area === 'local' && 'relayUrl' in changes) wake();
  });

  // The panel's store requests (validated and sender-checked in lib/store/store-request-handler.ts).
  browser.runtime.onMessage.addListener(
    (
      raw: unknown,
      sender: Browser.runtime.MessageSender,
      sendResponse: (response: StoreResponse) => void,
    ): true | undefined => {
      const self = { runtimeId: browser.runtime.id, origin: browser.runtime.getURL('/') };
      const reply = handleStoreMessage(raw, sender, self, storeFor);
      if (reply === null) return undefined;
      void reply.then(sendResponse);
      return true;
    },
  );

  browser.runtime.onMessage.addListener(
    (
      raw: unknown,
      sender: Browser.runtime.MessageSender,
      sendResponse: (response: AuthRefreshResponse | SsoStartResponse) => void,
    ): true | undefined => {
      const message = parseProtocolMessage(raw);
      if (!message) return undefined;
      const self = { runtimeId: browser.runtime.id, origin: browser.runtime.getURL('/') };
      if (!backgroundAccepts(message, sender, self)) {
        console.warn('[crm-texting] rejected message', message.type, 'from', sender.url);
        return undefined;
      }
      switch (message.type) {
        case 'open-options':
          browser.runtime
            .openOptionsPage()
            .catch((error: unknown) => console.error('openOptionsPage failed', error));
          break;
        case 'panel-state': {
          const tabId = sender.tab?.id;
          if (tabId === undefined) break;
          // Top frame only: that is where the content script docking this panel runs. The tab may have
          // navigated away meanwhile, so a missing receiver is expected, not an error.
          browser.tabs.sendMessage(tabId, message, { frameId: 0 }).catch(() => undefined);
          break;
        }
        case 'auth-refresh':
          // sendResponse + `return true` (not a returned promise) works in both Chrome and Firefox.
          refresher.refresh(message.staleAccessToken).then(sendResponse, (error: unknown) => {
            console.error('[crm-texting] refresh failed', error);
            sendResponse({ ok: false, signedOut: false });
          });
          return true;
        case 'sso-start':
          sso
            .start(message.relayUrl, message.orgId, sender.tab?.id ?? null)
            .then(sendResponse, (error: unknown) => {
              ssoFailed(error);
              sendResponse({ ok: false, message: 'SSO sign-in could not start. Try again.' });
            });
          return true;
        case 'sso-cancel':
          sso.cancel().catch(ssoFailed);
          break;
      }
      return undefined;
    },
  );
});
