import { type Browser, browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { AuthApi, TokenRefresher } from '../../lib/auth.ts';
import { runEventStream } from '../../lib/event-stream.ts';
import { InboundNotifier } from '../../lib/inbound-notifier.ts';
import { contactForConversation } from '../../lib/local-store.ts';
import { type AuthRefreshResponse, backgroundAccepts, parseProtocolMessage } from '../../lib/protocol.ts';
import { RelayClient } from '../../lib/relay-client.ts';
import { type Me, parseMessageEnvelope } from '../../lib/relay-types.ts';
import {
  AUTH_SESSION_KEY,
  browserSessionStore,
  credentialOf,
  effectiveNotificationPreference,
  loadNotificationPreference,
  loadSettings,
} from '../../lib/settings.ts';

const TICK_ALARM = 'crm-texting-tick';
const CURSOR_KEY = 'eventsCursor';

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

  // Notifications of inbound texts come from one live stream here, resumed from the last event seen,
  // so a worker woken by the alarm catches up on what arrived while it slept.
  let stream: { key: string; controller: AbortController } | null = null;
  const ensureStream = async (): Promise<void> => {
    const settings = await loadSettings();
    const credential = credentialOf(settings);
    const key = credential ? `${settings.relayUrl}|${settings.session?.email ?? 'api-key'}` : null;
    if (stream && stream.key === key) return;
    stream?.controller.abort();
    stream = null;
    if (!key || !credential) return;
    const controller = new AbortController();
    stream = { key, controller };
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
            if (n.pageUrl) pageUrls.set(`inbound:${n.id}`, n.pageUrl);
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
      .catch((error: unknown) => console.warn('[crm-texting] notification stream stopped', error))
      .finally(() => {
        if (stream?.controller === controller) stream = null;
      });
  };

  const pageUrls = new Map<string, string>();
  browser.notifications.onClicked.addListener((id: string) => {
    const pageUrl = pageUrls.get(id);
    pageUrls.delete(id);
    browser.notifications.clear(id).catch(() => undefined);
    if (pageUrl) browser.tabs.create({ url: pageUrl }).catch(() => undefined);
  });

  const wake = (): void => {
    schedule().catch(() => undefined);
    ensureStream().catch((error: unknown) => console.warn('[crm-texting] stream setup failed', error));
  };
  Promise.resolve(browser.alarms.create(TICK_ALARM, { periodInMinutes: 0.5 })).catch(() => undefined);
  browser.alarms.onAlarm.addListener((alarm: Browser.alarms.Alarm) => {
    if (alarm.name === TICK_ALARM) wake();
  });
  wake();
  browser.storage.onChanged.addListener((changes: Record<string, unknown>, area: string) => {
    if (area === 'session' && AUTH_SESSION_KEY in changes) wake();
    if (area === 'local' && 'relayUrl' in changes) wake();
  });

  browser.runtime.onMessage.addListener(
    (
      raw: unknown,
      sender: Browser.runtime.MessageSender,
      sendResponse: (response: AuthRefreshResponse) => void,
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
      }
      return undefined;
    },
  );
});
