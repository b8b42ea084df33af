import { type ExtensionIdentity, isPanelInTab } from '../messages/extension-messages.ts';
import type { ChannelPort } from '../messages/reconnecting-port.ts';
import { PANEL_STORE_EVENTS_PORT, type StoreEvent } from '../store/store-messages.ts';

/**
 * The open panels' store-events Ports: the background posts each outbox change and each text the
 * outbox sent to every panel framed in a tab, and to nothing else.
 */
export class StoreEventPorts {
  private readonly ports = new Set<ChannelPort>();

  /** Serves `port` if it is a store-events Port (refusing any sender but a panel in a tab); false if not ours. */
  serve(port: ChannelPort, self: ExtensionIdentity): boolean {
    if (port.name !== PANEL_STORE_EVENTS_PORT) return false;
    if (port.sender === undefined || !isPanelInTab(port.sender, self)) {
      console.warn('[crm-texting] refused the store events channel to', port.sender?.url);
      port.disconnect();
      return true;
    }
    this.ports.add(port);
    port.onDisconnect.addListener(() => this.ports.delete(port));
    port.onMessage.addListener((message) => {
      console.warn('[crm-texting] ignored a message on the store events channel', message);
    });
    return true;
  }

  broadcast(event: StoreEvent): void {
    for (const port of this.ports) {
      try {
        port.postMessage(event);
      } catch (error) {
        // The panel's page closed between its disconnect and this post.
        this.ports.delete(port);
        console.warn('[crm-texting] a panel left before a store event reached it', error);
      }
    }
  }
}
