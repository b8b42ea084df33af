import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { PeriodicRunner } from '../lib/periodic-runner.ts';
import { judgeClosedHours } from './detector.ts';

/** How often the worker looks for hours to judge (each is judged once, 5 minutes after it ends). */
const INTERVAL_MS = 5 * 60_000;

/** Judges each closed hour of sending against its baseline, on a timer (started with the outbox worker). */
export class AnomalyWorker {
  private readonly runner: PeriodicRunner;

  constructor(
    private readonly options: {
      db: Database;
      clock: Clock;
      log: (level: 'info' | 'warn' | 'error', message: string) => void;
    },
  ) {
    this.runner = new PeriodicRunner(
      () => this.pass(),
      INTERVAL_MS,
      (error) => options.log('error', `anomaly pass failed: ${String(error)}`),
    );
  }

  start(): void {
    this.runner.start(true);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async pass(): Promise<void> {
    const raised = await judgeClosedHours(this.options.db, this.options.clock());
    for (const a of raised)
      this.options.log(
        'warn',
        `anomaly alert ${a.id}: ${a.subject} ${a.metric} ${a.observed} in an hour (usual ${a.expected.toFixed(1)})${a.paused ? ', sending paused' : ''}`,
      );
  }
}
