import { type Browser, browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { backgroundAccepts, parseProtocolMessage } from '../../lib/protocol.ts';

// Wiring only: every message is parsed and its sender checked before anything happens.
export default defineBackground(() => {
  browser.runtime.onMessage.addListener((raw: unknown, sender: Browser.runtime.MessageSender): undefined => {
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
    }
    return undefined;
  });
});
