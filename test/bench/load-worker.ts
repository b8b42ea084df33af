/**
 * Entry of the load generator in a worker thread or a child process: runs one stretch of load per
 * message and posts the result back, so building, signing and parsing requests costs this thread's CPU, not the
 * relay's event loop.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { runLoad } from './load.ts';
import type { StretchRequest, StretchResponse } from './load-generator.ts';
import { requestBuilder } from './scenarios.ts';

/** The parent: a worker thread's port, or a child process's IPC channel. */
function parentChannel(): { on(fn: (m: StretchRequest) => void): void; post(r: StretchResponse): void } {
  if (parentPort !== null) {
    const port = parentPort;
    return { on: (fn) => port.on('message', fn), post: (r) => port.postMessage(r) };
  }
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('load-worker.ts runs as a worker thread or a forked process only');
  // The parent going away ends this process too, so no generator outlives a crashed bench.
  process.on('disconnect', () => process.exit(0));
  return { on: (fn) => process.on('message', fn), post: (r) => send(r) };
}
const port = parentChannel();

port.on(async (message: StretchRequest) => {
  const { scenario, ...options } = message.options;
  let response: StretchResponse;
  try {
    const before = performance.eventLoopUtilization();
    const run = await runLoad({ ...options, build: requestBuilder(scenario) });
    const generatorElu = performance.eventLoopUtilization(before).utilization;
    response = { id: message.id, run, generatorElu };
  } catch (error) {
    response = {
      id: message.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  port.post(response);
});
