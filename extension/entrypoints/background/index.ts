import { type Browser, browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { AuthApi } from '../../lib/auth/auth-api.ts';
import { browserSessionVault } from '../../lib/auth/session-vault.ts';
import { SsoCoordinator } from '../../lib/auth/sso-coordinator.ts';
import { TokenRefresher } from '../../lib/auth/token-refresher.ts';
import {
  notificationClicked,
  notificationClosed,
  showInboundNotification,
} from '../../lib/background/desktop-notifications.ts';
import { IdentityContexts } from '../../lib/background/identity-context.ts';
import { KeptSessionFollower } from '../../lib/background/kept-session.ts';
import { answerProtocolMessage, answerStoreRequest } from '../../lib/background/message-handlers.ts';
import { RefreshSchedule } from '../../lib/background/refresh-schedule.ts';
import { serveSettingsPort } from '../../lib/background/settings-port.ts';
import { browserSsoPorts, reportSsoFailure } from '../../lib/background/sso-ports.ts';
import { StoreEventPorts } from '../../lib/background/store-event-ports.ts';
import type { ChannelPort } from '../../lib/messages/reconnecting-port.ts';
import type { SettingsPort } from '../../lib/messages/settings-channel.ts';
import { AUTH_SESSION_KEY, browserSessionStore, loadSettings, watchSettings } from '../../lib/settings.ts';
import type { StoreEvent } from '../../lib/store/store-messages.ts';

const TICK_ALARM = 'crm-texting-tick';

// Wiring only: every listener hands its event to a lib/background module, which parses messages and
// checks their senders before anything happens.
export default defineBackground(() => {
  const vault = browserSessionVault();
  const refresher = new TokenRefresher({
    store: browserSessionStore,
    api: (relayUrl) => new AuthApi(relayUrl),
    vault,
  });
  const keptSession = new KeptSessionFollower(browserSessionStore, vault);
  const refreshSchedule = new RefreshSchedule(refresher, browserSessionStore);
  const storeEvents = new StoreEventPorts();
  const broadcast = (event: StoreEvent): void => storeEvents.broadcast(event);
  const contexts = new IdentityContexts({ refresher, broadcast, notify: showInboundNotification });
  const sso = new SsoCoordinator(browserSsoPorts());

  browser.notifications.onClicked.addListener(notificationClicked);
  browser.notifications.onClosed.addListener(notificationClosed);

  browser.tabs.onUpdated.addListener(
    (tabId: number, change: Browser.tabs.OnUpdatedInfo, tab: Browser.tabs.Tab) => {
      if (change.url === undefined && change.status !== 'complete') return;
      sso.tabUpdated(tabId, change.url ?? tab.url, change.status === 'complete').catch(reportSsoFailure);
    },
  );
  browser.tabs.onRemoved.addListener((tabId: number) => {
    sso.tabRemoved(tabId).catch(reportSsoFailure);
  });

  const wake = (): void => {
    refreshSchedule.reschedule();
    contexts.flushOutbox();
  };
  Promise.resolve(browser.alarms.create(TICK_ALARM, { periodInMinutes: 0.5 })).catch((error: unknown) =>
    console.error('[crm-texting] no periodic alarm: a suspended worker wakes only on events', error),
  );
  browser.alarms.onAlarm.addListener((alarm: Browser.alarms.Alarm) => {
    if (alarm.name !== TICK_ALARM) return;
    wake();
    sso.expire().catch(reportSsoFailure);
  });
  wake();
  browser.storage.onChanged.addListener((changes: Record<string, unknown>, area: string) => {
    if (area === 'session' && AUTH_SESSION_KEY in changes) {
      keptSession.follow();
      wake();
    }
    if (area === 'local' && 'relayUrl' in changes) wake();
  });

  browser.runtime.onConnect.addListener((port: Browser.runtime.Port) => {
    const self = { runtimeId: browser.runtime.id, origin: browser.runtime.getURL('/') };
    if (storeEvents.serve(port as ChannelPort, self)) return;
    serveSettingsPort(port as SettingsPort, self, { load: loadSettings, watch: watchSettings });
  });
  browser.runtime.onMessage.addListener((raw: unknown, sender: Browser.runtime.MessageSender, sendResponse) =>
    answerStoreRequest(raw, sender, sendResponse, () => contexts.store()),
  );
  browser.runtime.onMessage.addListener((raw: unknown, sender: Browser.runtime.MessageSender, sendResponse) =>
    answerProtocolMessage(raw, sender, sendResponse, { refresher, sso, sessions: browserSessionStore }),
  );
});
