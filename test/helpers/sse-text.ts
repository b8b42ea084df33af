import { expect } from 'vitest';
import { eventually } from './relay.ts';

/**
 * An open server-sent event stream, read as text: everything received so far, and whether the
 * relay ended it. Resolves once the relay has said ': connected'.
 */
export async function openTextStream(url: string, headers: Record<string, string>) {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const stream = { text: '', ended: false };
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          stream.ended = true;
          return;
        }
        stream.text += decoder.decode(value, { stream: true });
      }
    } catch {
      // Aborted by the test.
    }
  })();
  await eventually(async () => stream.text.includes(': connected'));
  return {
    stream,
    async close() {
      abort.abort();
      await pump;
    },
  };
}
