import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { type LoadRun, runLoad } from './load.ts';
import { requestBuilder, type Scenario } from './scenarios.ts';

/**
 * Where the HTTP load generator runs:
 * - 'worker': in a worker thread, so the relay's event loop (this thread) only serves requests;
 * - 'inprocess': on the relay's own event loop (the original design), which charges the
 *   generator's CPU (building, signing, parsing) to the side being measured.
 */
export type LoadPlacement = 'worker' | 'inprocess';

export interface StretchOptions {
  origin: string;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  expectStatus: number;
  scenario: Scenario;
  timeoutMs?: number;
}

export interface StretchRequest {
  id: number;
  options: StretchOptions;
}

export type StretchResponse =
  | { id: number; run: LoadRun; generatorElu: number }
  | { id: number; error: string };

export interface GeneratorRun extends LoadRun {
  placement: LoadPlacement;
  /**
   * Event-loop utilisation of this (the relay's) thread during the stretch, 0..1. With the
   * generator in-process it includes the generator's own work.
   */
  relayElu: number;
  /** Event-loop utilisation of the generator's worker thread; null when in-process. */
  generatorElu: number | null;
}

/** Runs stretches of closed-loop load from one placement; close() when done. */
export class LoadGenerator {
  private worker: Worker | null = null;
  private nextId = 0;
  private pending = new Map<number, { resolve(r: StretchResponse): void; reject(e: Error): void }>();

  constructor(readonly placement: LoadPlacement) {}

  private spawn(): Worker {
    if (this.worker !== null) return this.worker;
    // Under tsx the worker inherits its loader (execArgv), so it can be TypeScript like the rest.
    const worker = new Worker(new URL('./load-worker.ts', import.meta.url));
    worker.on('message', (response: StretchResponse) => {
      const waiter = this.pending.get(response.id);
      this.pending.delete(response.id);
      waiter?.resolve(response);
    });
    const failAll = (error: Error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      this.worker = null;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`load worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  async run(options: StretchOptions): Promise<GeneratorRun> {
    if (this.placement === 'inprocess') {
      const before = performance.eventLoopUtilization();
      const { scenario, ...rest } = options;
      const run = await runLoad({ ...rest, build: requestBuilder(scenario) });
      const relayElu = performance.eventLoopUtilization(before).utilization;
      return { ...run, placement: 'inprocess', relayElu, generatorElu: null };
    }
    const worker = this.spawn();
    const id = this.nextId++;
    const before = performance.eventLoopUtilization();
    const response = await new Promise<StretchResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, options } satisfies StretchRequest);
    });
    const relayElu = performance.eventLoopUtilization(before).utilization;
    if ('error' in response) throw new Error(`load worker failed: ${response.error}`);
    return { ...response.run, placement: 'worker', relayElu, generatorElu: response.generatorElu };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }
}

/** The placement `npm run bench` measures with (BENCH_LOAD=worker|inprocess overrides it). */
export function defaultPlacement(): LoadPlacement {
  const raw = process.env.BENCH_LOAD;
  if (raw === undefined || raw === '') return 'worker';
  if (raw === 'worker' || raw === 'inprocess') return raw;
  throw new Error(`BENCH_LOAD must be worker or inprocess, got "${raw}"`);
}

export const otherPlacement = (p: LoadPlacement): LoadPlacement => (p === 'worker' ? 'inprocess' : 'worker');
