/**
 * Worker-thread entry of the load generator: runs one stretch of load per message and posts the
 * result back, so building, signing and parsing requests costs this thread's CPU, not the
 * relay's event loop.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { runLoad } from './load.ts';
import type { StretchRequest, StretchResponse } from './load-generator.ts';
import { requestBuilder } from './scenarios.ts';

if (parentPort === null) throw new Error('load-worker.ts runs as a worker thread only');
const port = parentPort;

port.on('message', async (message: StretchRequest) => {
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
  port.postMessage(response);
});
