import { CoalescingRunner } from './coalescing-runner.ts';

/**
 * A pass run every `intervalMs` and on demand (wake), never two at once (CoalescingRunner). The
 * timer does not keep the process alive; stop() clears it and waits for the pass in flight.
 */
export class PeriodicRunner {
  private timer: NodeJS.Timeout | null = null;
  private readonly runner: CoalescingRunner;

  constructor(
    pass: () => Promise<void>,
    private readonly intervalMs: number,
    onError: (error: unknown) => void,
  ) {
    this.runner = new CoalescingRunner(pass, onError);
  }

  /** Starts the timer; `runNow` also runs a first pass at once instead of after one interval. */
  start(runNow: boolean): void {
    this.timer = setInterval(() => this.runner.wake(), this.intervalMs);
    this.timer.unref();
    if (runNow) this.runner.wake();
  }

  wake(): void {
    this.runner.wake();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.runner.stop();
  }
}
