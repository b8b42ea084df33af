import http from 'node:http';
import { runLanes } from './lanes.ts';

/** One request the generator sends; built fresh for every request so keys can be unique. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Loopback origin of the server under test, e.g. http://127.0.0.1:40123. */
  origin: string;
  /** Requests in flight at any moment: one keep-alive connection per lane. */
  concurrency: number;
  durationMs: number;
  /** Hard cap on requests, so a surprisingly fast server cannot make a phase unbounded. */
  maxRequests: number;
  /** The status every response must have; anything else is counted as a failure. */
  expectStatus: number;
  build(lane: number, seq: number): LoadRequest;
  /** Per-request timeout; a request that exceeds it counts as an error. */
  timeoutMs?: number;
  /** Event streams held open for the whole stretch, as reps' panels would hold them. */
  subscribers?: Subscribers;
  /**
   * Paced instead of as fast as the server answers: at most this many requests a second in all
   * (each lane still waits for its answer), for load in the background of another measurement.
   */
  ratePerSecond?: number;
}

/** `count` GETs of an event stream (`path`), read to the end of the stretch and then dropped. */
export interface Subscribers {
  count: number;
  path: string;
  headers: Record<string, string>;
}

/** What one stretch of load achieved (raw, so stretches can be combined). */
export interface LoadRun {
  elapsedMs: number;
  /** Responses with the expected status. */
  ok: number;
  /** Responses with any other status, by status. */
  unexpected: Record<string, number>;
  /** Transport failures: refused or reset connections, timeouts. */
  errors: number;
  /** Responses the relay marked as idempotent replays (should be 0: every key is unique). */
  replayed: number;
  /** The first unexpected response or error, for the report. */
  firstProblem: string | null;
  /** Latency of every expected-status response, in milliseconds. */
  latenciesMs: number[];
  /** Events the subscribers read during the stretch, all of them together (0 without subscribers). */
  subscriberEvents: number;
}

/** Requests of a stretch that did not get the expected answer: other statuses and transport errors. */
export const failuresOf = (run: Pick<LoadRun, 'unexpected' | 'errors'>): number =>
  Object.values(run.unexpected).reduce((total, n) => total + n, 0) + run.errors;

interface Response {
  status: number;
  replayed: boolean;
  body: string;
}

export function sendRequest(
  agent: http.Agent,
  origin: URL,
  request: LoadRequest,
  timeoutMs: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
    const req = http.request(
      {
        agent,
        host: origin.hostname,
        port: origin.port,
        method: request.method,
        path: request.path,
        headers,
      },
      (res) => {
        // The body must be read to the end, or the keep-alive socket is never reused.
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            replayed: res.headers['idempotent-replayed'] === 'true',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/**
 * A closed-loop HTTP load generator: `concurrency` lanes, each sending its next request as
 * soon as the previous response has been read, over keep-alive connections (node:http and
 * its native parser keep the generator's own CPU cost small). It runs wherever it is called:
 * in a worker thread (load-generator.ts, the default) or on the server's own event loop,
 * and stops by letting in-flight requests finish, so nothing from one phase spills into the
 * next and every counted response lies inside the measured interval.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const origin = new URL(options.origin);
  if (origin.hostname !== '127.0.0.1' && origin.hostname !== 'localhost' && origin.hostname !== '::1') {
    throw new Error(`the load generator only targets loopback, not ${origin.hostname}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const latenciesMs: number[] = [];
  const unexpected: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let replayed = 0;
  let firstProblem: string | null = null;
  const seqs = new Array<number>(options.concurrency).fill(0);
  const streams =
    options.subscribers === undefined ? null : await openStreams(origin, options.subscribers, timeoutMs);
  const pace = pacer(options.ratePerSecond);
  try {
    const { elapsedMs } = await runLanes(
      options.concurrency,
      options.durationMs,
      options.maxRequests,
      async (lane) => {
        await pace();
        const seq = seqs[lane] ?? 0;
        seqs[lane] = seq + 1;
        const request = options.build(lane, seq);
        const begun = performance.now();
        try {
          const response = await sendRequest(agent, origin, request, timeoutMs);
          if (response.replayed) replayed += 1;
          if (response.status === options.expectStatus) {
            ok += 1;
            latenciesMs.push(performance.now() - begun);
          } else {
            unexpected[String(response.status)] = (unexpected[String(response.status)] ?? 0) + 1;
            firstProblem ??= `HTTP ${response.status}: ${response.body.slice(0, 300)}`;
          }
        } catch (error) {
          errors += 1;
          firstProblem ??= `transport error: ${String(error)}`;
        }
      },
    );
    // Events of the last sends are still on their way: a moment for them before the count.
    if (streams !== null) await new Promise((resolve) => setTimeout(resolve, 250));
    const subscriberEvents = streams?.events() ?? 0;
    if (streams !== null && subscriberEvents === 0 && ok > 0)
      firstProblem ??= `${options.subscribers?.count} subscribers read no event in the stretch`;
    return { elapsedMs, ok, unexpected, errors, replayed, firstProblem, latenciesMs, subscriberEvents };
  } finally {
    streams?.close();
    agent.destroy();
  }
}

/** Waits for the next request's slot at `ratePerSecond` (slots counted from the first request). */
function pacer(ratePerSecond: number | undefined): () => Promise<void> {
  if (ratePerSecond === undefined) return () => Promise.resolve();
  let start: number | null = null;
  let slot = 0;
  return async () => {
    start ??= performance.now();
    const due = start + (slot++ * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}

/**
 * Opens the subscribers' streams and resolves once every one has answered 200 (the relay answers
 * only when the subscription is in place). Each counts the `data:` lines it reads, nothing more, so
 * the subscribers cost the generator's process little.
 */
async function openStreams(
  origin: URL,
  subscribers: Subscribers,
  timeoutMs: number,
): Promise<{ events(): number; close(): void }> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: subscribers.count });
  const requests: http.ClientRequest[] = [];
  let events = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: origin.hostname,
          port: origin.port,
          method: 'GET',
          path: subscribers.path,
          headers: { ...subscribers.headers, accept: 'text/event-stream' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`GET ${subscribers.path}: HTTP ${res.statusCode}`));
            return;
          }
          res.setEncoding('utf8');
          let partial = '';
          res.on('data', (chunk: string) => {
            const lines = (partial + chunk).split('\n');
            // A line cut between two chunks is counted when its end arrives.
            partial = lines.pop() ?? '';
            for (const line of lines) if (line.startsWith('data:')) events += 1;
          });
          // best effort: a stream reset after the stretch is the close below.
          res.on('error', () => {});
          resolve();
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no stream within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
      requests.push(req);
    });
  const close = () => {
    for (const req of requests) req.destroy();
    agent.destroy();
  };
  try {
    await Promise.all(Array.from({ length: subscribers.count }, open));
  } catch (error) {
    close();
    throw error;
  }
  for (const req of requests) req.setTimeout(0);
  return { events: () => events, close };
}
