import { type Browser, browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { AuthApi, TokenRefresher } from '../../lib/auth.ts';
import { type AuthRefreshResponse, backgroundAccepts, parseProtocolMessage } from '../../lib/protocol.ts';
import { AUTH_SESSION_KEY, browserSessionStore } from '../../lib/settings.ts';

// Wiring only: every message is parsed and its sender checked before anything happens.
export default defineBackground(() => {
  const refresher = new TokenRefresher({
    store: browserSessionStore,
    api: (relayUrl) => new AuthApi(relayUrl),
  });

  // Refresh shortly before expiry while the worker is alive; a 401 in a panel covers the rest (the
  // worker may be suspended, which drops this timer).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = async (): Promise<void> => {
    clearTimeout(timer);
    const session = await browserSessionStore.get();
    if (!session) return;
    timer = setTimeout(() => {
      refresher.refresh().catch((error: unknown) => console.error('[crm-texting] refresh failed', error));
    }, refresher.delayFor(session));
  };
  schedule().catch(() => undefined);
  browser.storage.onChanged.addListener((changes: Record<string, unknown>, area: string) => {
    if (area === 'session' && AUTH_SESSION_KEY in changes) schedule().catch(() => undefined);
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
