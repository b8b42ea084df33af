/** One server-sent event as the client saw it. */
export interface SseEvent {
  type: string;
  data: string;
  id: string | null;
  /** performance.now() when the chunk carrying the event's end arrived. */
  receivedAt: number;
}

/**
 * A minimal SSE client over fetch (text/event-stream framing: `event:`, `data:`, `id:` lines,
 * blank line ends an event, `:` lines are comments). Resolves once the response headers are in,
 * which the relay sends only after the subscription is in place.
 */
export class SseClient {
  private readonly controller = new AbortController();
  private reading: Promise<void> = Promise.resolve();
  private closed = false;
  /** A read error other than the abort from close(), if the stream broke. */
  error: string | null = null;

  private constructor(private readonly onEvent: (event: SseEvent) => void) {}

  static async connect(
    url: string,
    headers: Record<string, string>,
    onEvent: (event: SseEvent) => void,
  ): Promise<SseClient> {
    const client = new SseClient(onEvent);
    const response = await fetch(url, {
      headers: { ...headers, accept: 'text/event-stream' },
      signal: client.controller.signal,
    });
    if (response.status !== 200 || response.body === null) {
      client.controller.abort();
      throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text().catch(() => '')}`);
    }
    client.reading = client.read(response.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const reader = body.getReader();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const receivedAt = performance.now();
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.dispatch(block, receivedAt);
        }
      }
    } catch (error) {
      if (!this.closed) this.error = String(error);
    }
  }

  private dispatch(block: string, receivedAt: number): void {
    let type = 'message';
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length === 0) return;
    this.onEvent({ type, data: data.join('\n'), id, receivedAt });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.controller.abort();
    await this.reading;
  }
}
