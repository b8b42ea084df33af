import { expect } from 'vitest';
import { eventually } from './relay.ts';

/**
 * A response read as text as it arrives, whatever its status: everything received so far
 * (`stream.text`), whether the relay ended it, and a way to hang up.
 */
export async function readTextResponse(url: string, headers: Record<string, string>) {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  if (response.body === null) throw new Error(`${url}: a response without a body`);
  const reader = response.body.getReader();
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
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    stream,
    /** Resolves when the relay ends the response (a refusal ends at once). */
    ended: () => pump,
    async close() {
      abort.abort();
      await pump;
    },
  };
}

/**
 * An open server-sent event stream, read as text: everything received so far, and whether the
 * relay ended it. Resolves once the relay has said ': connected'.
 */
export async function openTextStream(url: string, headers: Record<string, string>) {
  const { status, stream, close } = await readTextResponse(url, headers);
  expect(status).toBe(200);
  await eventually(async () => stream.text.includes(': connected'));
  return { stream, close };
}
