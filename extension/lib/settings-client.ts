import { parseSettingsChannelMessage, type SettingsPort } from './messages/settings-channel.ts';
import type { Settings } from './settings.ts';

/** Waits before reconnecting, by consecutive failure; the last repeats. */
const BACKOFF_MS = [100, 300, 1000, 3000, 5000];

/** What the settings client needs: a way to open the channel, and where its news goes. */
export interface SettingsClientOptions {
  /** Opens the settings Port to the background (`browser.runtime.connect`); may throw. */
  connect(): SettingsPort;
  onSettings(settings: Settings): void;
  onError(error: Error): void;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * The panel's end of the settings channel: keeps a Port to the background open, hands on every valid
 * settings message and reconnects with a short backoff when the Port drops (Chrome stops an idle MV3
 * service worker; Firefox unloads an idle event page).
 */
export class SettingsClient {
  private port: SettingsPort | null = null;
  private timer: unknown = null;
  private failures = 0;
  private stopped = false;
  private readonly setTimer: (run: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(private readonly options: SettingsClientOptions) {
    this.setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    port?.disconnect();
  }

  private open(): void {
    this.timer = null;
    if (this.stopped) return;
    let port: SettingsPort;
    try {
      port = this.options.connect();
    } catch (error) {
      console.warn('[crm-texting] could not reach the extension background', error);
      this.retry();
      return;
    }
    this.port = port;
    port.onMessage.addListener((raw) => {
      if (this.port !== port) return;
      const message = parseSettingsChannelMessage(raw);
      if (message === null) {
        console.warn('[crm-texting] ignored a malformed settings message', raw);
        return;
      }
      this.failures = 0;
      if (message.type === 'settings') this.options.onSettings(message.settings);
      else this.options.onError(new Error(message.message));
    });
    port.onDisconnect.addListener(() => {
      if (this.port !== port) return;
      this.port = null;
      this.retry();
    });
  }

  private retry(): void {
    if (this.stopped || this.timer !== null) return;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] ?? 5000;
    this.failures += 1;
    this.timer = this.setTimer(() => this.open(), delay);
  }
}
