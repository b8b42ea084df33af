import type { ExtensionIdentity } from '../messages/extension-messages.ts';
import {
  backgroundAcceptsSettingsPort,
  PANEL_SETTINGS_PORT,
  type SettingsChannelMessage,
  type SettingsPort,
} from '../messages/settings-channel.ts';
import { panelSettingsOf, type Settings } from '../settings.ts';

/** Where the background reads settings and hears of their changes (`loadSettings`/`watchSettings`). */
export interface SettingsSource {
  load(): Promise<Settings>;
  watch(signal: AbortSignal, onChange: () => void): void;
}

/**
 * Serves one connecting Port if it is the panel's settings channel: a panel framed in a tab gets the
 * settings now and after every change until it disconnects; any other sender is disconnected. Returns
 * false when the Port is another channel's.
 */
export function serveSettingsPort(
  port: SettingsPort,
  self: ExtensionIdentity,
  source: SettingsSource,
): boolean {
  if (port.name !== PANEL_SETTINGS_PORT) return false;
  if (!backgroundAcceptsSettingsPort(port, self)) {
    console.warn('[crm-texting] refused the settings channel to', port.sender?.url);
    port.disconnect();
    return true;
  }
  const controller = new AbortController();
  port.onDisconnect.addListener(() => controller.abort());
  port.onMessage.addListener((message) => {
    console.warn('[crm-texting] ignored a message on the settings channel', message);
  });
  // One read at a time, so a slow earlier read cannot overwrite a later one.
  let queue = Promise.resolve();
  const post = (): void => {
    queue = queue.then(() => postCurrent(port, source, controller.signal));
  };
  source.watch(controller.signal, post);
  post();
  return true;
}

async function postCurrent(port: SettingsPort, source: SettingsSource, signal: AbortSignal): Promise<void> {
  let message: SettingsChannelMessage;
  try {
    // The refresh token stays here: only the background spends it.
    message = { type: 'settings', settings: panelSettingsOf(await source.load()) };
  } catch (error) {
    console.error('[crm-texting] could not read the settings', error);
    message = { type: 'settings-unavailable', message: `Could not read the settings: ${String(error)}` };
  }
  if (signal.aborted) return;
  try {
    port.postMessage(message);
  } catch (error) {
    console.warn('[crm-texting] the panel left before its settings could be posted', error);
  }
}
