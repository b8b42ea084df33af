import { type FetchLike, RelayError } from './relay-client.ts';
import { type SseEvent, SseParser } from './sse-parser.ts';

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'retrying'; inMs: number; reason: string }
  | { kind: 'stopped'; error: RelayError };

export interface EventStreamOptions {
  url: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  fetch: FetchLike;
  onEvent(event: SseEvent): void;
  onState?(state: StreamState): void;
  lastEventId?: string;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** The relay pings every 15 s; silence this long means the connection died without closing. */
  idleTimeoutMs?: number;
  random?: () => number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Keeps an SSE connection open until `signal` aborts: reconnects with `Last-Event-ID` and jittered
 * exponential backoff, and gives up only on 401/403, which no retry can fix.
 */
export async function runEventStream(options: EventStreamOptions): Promise<void> {
  const { signal } = options;
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const idleTimeout = options.idleTimeoutMs ?? 45_000;
  const random = options.random ?? Math.random;
  let lastEventId = options.lastEventId ?? '';
  let failures = 0;
  let serverRetry: number | null = null;

  while (!signal.aborted) {
    options.onState?.({ kind: 'connecting' });
    const connection = new AbortController();
    const abortConnection = (): void => connection.abort();
    signal.addEventListener('abort', abortConnection, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(abortConnection, idleTimeout);
    };
    let reason = 'connection closed';
    try {
      const headers = { ...options.headers };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      armIdle();
      const response = await options.fetch(options.url, {
        method: 'GET',
        headers,
        cache: 'no-store',
        signal: connection.signal,
      });
      if (response.status === 401 || response.status === 403) {
        options.onState?.({
          kind: 'stopped',
          error: new RelayError(response.status, {
            code: response.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN',
            message: 'The relay refused the live connection; check the API key in settings.',
            details: null,
          }),
        });
        return;
      }
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !response.body || !type.includes('text/event-stream')) {
        reason = `relay answered ${response.status}`;
      } else {
        options.onState?.({ kind: 'open' });
        const parser = new SseParser(lastEventId);
        const decoder = new TextDecoder();
        const reader = response.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          armIdle();
          // A connection that delivered data counts as healthy, so the next drop retries quickly.
          failures = 0;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            lastEventId = event.lastEventId;
            options.onEvent(event);
          }
          lastEventId = parser.eventId;
          serverRetry = parser.retry ?? serverRetry;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      reason = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(idleTimer);
      signal.removeEventListener('abort', abortConnection);
    }
    if (signal.aborted) return;
    const backoff = Math.min(max, initial * 2 ** failures);
    // Jitter spreads reconnects after a relay restart; a server `retry:` is honoured as a floor.
    const delay = Math.max(serverRetry ?? 0, Math.round(backoff / 2 + (random() * backoff) / 2));
    failures += 1;
    options.onState?.({ kind: 'retrying', inMs: delay, reason });
    await sleep(delay, signal);
  }
}
