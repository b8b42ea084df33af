import { browser } from 'wxt/browser';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { detectPage, hostMatches, hostOf } from '../hosts/registry.ts';
import { PanelDock } from '../lib/dock/panel-dock.ts';
import { layoutKey, PANEL_LAYOUT_KEY, parseLayout } from '../lib/dock/panel-layout.ts';
import { contentScriptAccepts, parseProtocolMessage } from '../lib/messages/extension-messages.ts';

// Runs inside CRM pages: it reads the URL and docks the panel, nothing more. It never sees the API
// key or talks to the relay, and must never throw into the host page.
export default defineContentScript({
  matches: [...hostMatches],
  runAt: 'document_idle',
  async main(ctx) {
    try {
      const host = hostOf(new URL(location.href));
      // Each CRM remembers its own layout; one saved before layouts were per host still applies.
      const key = layoutKey(host?.id ?? 'other');
      const stored: Record<string, unknown> = await browser.storage.local
        .get([key, PANEL_LAYOUT_KEY])
        .catch((error: unknown) => {
          report(error);
          return {};
        });
      const dock = new PanelDock({
        panelUrl: browser.runtime.getURL('/panel.html'),
        layout: parseLayout(stored[key] ?? stored[PANEL_LAYOUT_KEY]),
        anchored: host?.viewportAnchored,
        signal: ctx.signal,
        onLayoutChange: (next) => {
          browser.storage.local.set({ [key]: next }).catch(report);
        },
      });
      const update = (url: URL): void => {
        try {
          const page = detectPage(url);
          if (page.kind === 'none') dock.remove();
          else dock.show(page.kind === 'contact' ? page.ref : null);
        } catch (error) {
          report(error);
        }
      };

      const self = { runtimeId: browser.runtime.id, origin: browser.runtime.getURL('/') };
      const onMessage = (raw: unknown, sender: Parameters<typeof contentScriptAccepts>[1]): undefined => {
        const message = parseProtocolMessage(raw);
        if (message?.type === 'panel-state' && contentScriptAccepts(message, sender, self)) {
          dock.setInboundCount(message.inboundCount);
        }
        return undefined;
      };
      browser.runtime.onMessage.addListener(onMessage);
      ctx.onInvalidated(() => {
        browser.runtime.onMessage.removeListener(onMessage);
        dock.remove();
      });

      ctx.addEventListener(window, 'wxt:locationchange', (event) => update(event.newUrl));
      // The Navigation API can miss navigations a page cancels and re-issues, and SPAs sometimes wipe
      // foreign nodes; a slow poll catches both at negligible cost (update is idempotent).
      ctx.setInterval(() => update(new URL(location.href)), 1000);
      update(new URL(location.href));
    } catch (error) {
      report(error);
    }
  },
});

function report(error: unknown): void {
  console.warn('[crm-texting] panel dock error', error);
}
