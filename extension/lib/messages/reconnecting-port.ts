/** The parts of `runtime.Port` both ends use (structural, so tests need no browser). */
export interface ChannelPort {
  name: string;
  sender?:
    | { id?: string | undefined; url?: string | undefined; tab?: { id?: number | undefined } | undefined }
    | undefined;
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
}

/** Waits before reconnecting, by consecutive failure; the last repeats. */
const BACKOFF_MS = [100, 300, 1000, 3000, 5000];

export interface ReconnectingPortOptions {
  /** Opens the Port to the background (`browser.runtime.connect`); may throw. */
  connect(): ChannelPort;
  /** Handles one message; true when it was valid (a valid message resets the backoff). */
  onMessage(raw: unknown): boolean;
  /** Called on every (re)connection, so the receiver can catch up on what it missed while away. */
  onConnected?: () => void;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * A Port from an extension page to the background that stays open: when it drops (Chrome stops an
 * idle MV3 service worker; Firefox unloads an idle event page) it is opened again after a short
 * backoff. Ports reach every extension frame, also where `runtime.onMessage` broadcasts do not (a
 * Firefox panel frame in the web page's process).
 */
export class ReconnectingPort {
  private port: ChannelPort | null = null;
  private timer: unknown = null;
  private failures = 0;
  private stopped = false;
  private readonly setTimer: (run: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(private readonly options: ReconnectingPortOptions) {
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
    let port: ChannelPort;
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
      if (this.options.onMessage(raw)) this.failures = 0;
    });
    port.onDisconnect.addListener(() => {
      if (this.port !== port) return;
      this.port = null;
      this.retry();
    });
    this.options.onConnected?.();
  }

  private retry(): void {
    if (this.stopped || this.timer !== null) return;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] ?? 5000;
    this.failures += 1;
    this.timer = this.setTimer(() => this.open(), delay);
  }
}
