import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type LoadRun, runLoad, type Subscribers } from './load.ts';
import { requestBuilder, type Scenario } from './scenarios.ts';

/**
 * Where the HTTP load generator runs:
 * - 'process': in a child process of its own (the default), so neither the relay's event loop
 *   nor its process's heap and GC carry any of the generator's work;
 * - 'worker': in a worker thread, so the relay's event loop (this thread) only serves requests;
 * - 'inprocess': on the relay's own event loop (the original design), which charges the
 *   generator's CPU (building, signing, parsing) to the side being measured.
 */
export type LoadPlacement = 'process' | 'worker' | 'inprocess';

export interface StretchOptions {
  origin: string;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  expectStatus: number;
  scenario: Scenario;
  timeoutMs?: number;
  subscribers?: Subscribers;
  ratePerSecond?: number;
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
  /** Event-loop utilisation of the generator's thread (worker or child process); null when in-process. */
  generatorElu: number | null;
}

/** Runs stretches of closed-loop load from one placement; close() when done. */
export class LoadGenerator {
  private worker: Channel | null = null;
  private nextId = 0;
  private pending = new Map<number, { resolve(r: StretchResponse): void; reject(e: Error): void }>();

  constructor(readonly placement: LoadPlacement) {}

  private spawn(): Channel {
    if (this.worker !== null) return this.worker;
    const worker = this.placement === 'process' ? childChannel() : threadChannel();
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
    return { ...response.run, placement: this.placement, relayElu, generatorElu: response.generatorElu };
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

/** A worker thread or a child process, spoken to the same way. */
interface Channel {
  on(event: 'message', fn: (response: StretchResponse) => void): unknown;
  on(event: 'error', fn: (error: Error) => void): unknown;
  on(event: 'exit', fn: (code: number | null) => void): unknown;
  removeAllListeners(event: 'exit'): unknown;
  postMessage(request: StretchRequest): void;
  terminate(): Promise<unknown>;
}

const WORKER_URL = new URL('./load-worker.ts', import.meta.url);

// Under tsx the worker inherits its loader (execArgv), so it can be TypeScript like the rest.
const threadChannel = (): Channel => new Worker(WORKER_URL);

/** The generator in a child process; tsx's loader is named explicitly, as the relay's own spawns do. */
function childChannel(): Channel {
  const child = fork(fileURLToPath(WORKER_URL), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  return {
    on: (event: string, fn: (...args: never[]) => void) =>
      child.on(event, fn as (...args: unknown[]) => void),
    removeAllListeners: (event) => child.removeAllListeners(event),
    postMessage: (request) => {
      child.send(request);
    },
    terminate: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The placement `npm run bench` measures with (BENCH_LOAD=worker|inprocess overrides it). */
export function defaultPlacement(): LoadPlacement {
  const raw = process.env.BENCH_LOAD;
  if (raw === undefined || raw === '') return 'process';
  if (raw === 'process' || raw === 'worker' || raw === 'inprocess') return raw;
  throw new Error(`BENCH_LOAD must be process, worker or inprocess, got "${raw}"`);
}

/** The placement compared with the measured one (informational): the generator on the relay's loop. */
export const otherPlacement = (p: LoadPlacement): LoadPlacement =>
  p === 'inprocess' ? 'process' : 'inprocess';

export const placementLabel = (p: LoadPlacement): string =>
  ({ process: 'its own process', worker: 'a worker thread', inprocess: 'the relay loop' })[p];
