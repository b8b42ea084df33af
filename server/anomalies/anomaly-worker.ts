import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { judgeClosedHours } from './detector.ts';

/** How often the worker looks for hours to judge (each is judged once, 5 minutes after it ends). */
const INTERVAL_MS = 5 * 60_000;

/** Judges each closed hour of sending against its baseline, on a timer (started with the outbox worker). */
export class AnomalyWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly options: {
      db: Database;
      clock: Clock;
      log: (level: 'info' | 'warn' | 'error', message: string) => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
    this.timer.unref();
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running !== null) return;
    this.running = judgeClosedHours(this.options.db, this.options.clock())
      .then((raised) => {
        for (const a of raised)
          this.options.log(
            'warn',
            `anomaly alert ${a.id}: ${a.subject} ${a.metric} ${a.observed} in an hour (usual ${a.expected.toFixed(1)})${a.paused ? ', sending paused' : ''}`,
          );
      })
      .catch((error: unknown) => this.options.log('error', `anomaly pass failed: ${String(error)}`))
      .finally(() => {
        this.running = null;
      });
  }
}
