import { ReconnectingPort } from './messages/reconnecting-port.ts';
import { parseSettingsChannelMessage, type SettingsPort } from './messages/settings-channel.ts';
import type { PanelSettings } from './settings.ts';

/** What the settings client needs: a way to open the channel, and where its news goes. */
export interface SettingsClientOptions {
  /** Opens the settings Port to the background (`browser.runtime.connect`); may throw. */
  connect(): SettingsPort;
  onSettings(settings: PanelSettings): void;
  onError(error: Error): void;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * The panel's end of the settings channel: keeps a Port to the background open (see
 * `ReconnectingPort`) and hands on every valid settings message.
 */
export class SettingsClient {
  private readonly port: ReconnectingPort;

  constructor(options: SettingsClientOptions) {
    this.port = new ReconnectingPort({
      connect: options.connect,
      onMessage: (raw) => {
        const message = parseSettingsChannelMessage(raw);
        if (message === null) {
          console.warn('[crm-texting] ignored a malformed settings message', raw);
          return false;
        }
        if (message.type === 'settings') options.onSettings(message.settings);
        else options.onError(new Error(message.message));
        return true;
      },
      ...(options.setTimer === undefined ? {} : { setTimer: options.setTimer }),
      ...(options.clearTimer === undefined ? {} : { clearTimer: options.clearTimer }),
    });
  }

  start(): void {
    this.port.start();
  }

  stop(): void {
    this.port.stop();
  }
}
