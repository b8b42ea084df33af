// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { runEventStream, type StreamState } from '../../extension/lib/relay/event-stream.ts';
import type { FetchLike } from '../../extension/lib/relay/relay-client.ts';
import type { SseEvent } from '../../extension/lib/relay/sse-parser.ts';

function sseResponse(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

describe('event stream', () => {
  it('reconnects with Last-Event-ID after the stream ends', async () => {
    const controller = new AbortController();
    const seenHeaders: Array<Record<string, string>> = [];
    const events: SseEvent[] = [];
    const fetch: FetchLike = async (_url, init) => {
      seenHeaders.push({ ...(init.headers as Record<string, string>) });
      if (seenHeaders.length === 1)
        return sseResponse(['id: 41\nevent: message.created\ndata: {}\n\n: ping\n\n']);
      if (seenHeaders.length === 2) throw new TypeError('network down');
      return sseResponse(['id: 42\nevent: message.updated\ndata: {}\n\n']);
    };
    await runEventStream({
      url: 'http://relay/v1/events',
      headers: { Authorization: 'Bearer k' },
      fetch,
      signal: controller.signal,
      initialDelayMs: 1,
      onEvent: (event) => {
        events.push(event);
        if (events.length === 2) controller.abort();
      },
    });
    expect(events.map((e) => [e.event, e.lastEventId])).toEqual([
      ['message.created', '41'],
      ['message.updated', '42'],
    ]);
    expect(seenHeaders[0]?.['Last-Event-ID']).toBeUndefined();
    expect(seenHeaders[1]?.['Last-Event-ID']).toBe('41');
    expect(seenHeaders[2]?.['Last-Event-ID']).toBe('41');
    expect(seenHeaders.every((h) => h.Authorization === 'Bearer k')).toBe(true);
  });

  it('backs off exponentially between failed attempts', async () => {
    const controller = new AbortController();
    const delays: number[] = [];
    await runEventStream({
      url: 'http://relay/v1/events',
      headers: {},
      fetch: async () => new Response('down', { status: 503 }),
      signal: controller.signal,
      initialDelayMs: 1,
      maxDelayMs: 8,
      random: () => 1,
      onEvent: () => undefined,
      onState: (state) => {
        if (state.kind === 'retrying') delays.push(state.inMs);
        if (delays.length === 6) controller.abort();
      },
    });
    expect(delays).toEqual([1, 2, 4, 8, 8, 8]);
  });

  it('stops for good when the key is rejected', async () => {
    const states: StreamState[] = [];
    let calls = 0;
    await runEventStream({
      url: 'http://relay/v1/events',
      headers: {},
      fetch: async () => {
        calls += 1;
        return new Response('{}', { status: 401 });
      },
      signal: new AbortController().signal,
      onEvent: () => undefined,
      onState: (state) => states.push(state),
    });
    expect(calls).toBe(1);
    expect(states.at(-1)).toMatchObject({ kind: 'stopped', error: { status: 401 } });
  });

  it('ends promptly when aborted while connected', async () => {
    const controller = new AbortController();
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    const done = runEventStream({
      url: 'x',
      headers: {},
      fetch,
      signal: controller.signal,
      onEvent: () => undefined,
    });
    controller.abort();
    await expect(done).resolves.toBeUndefined();
  });
});
