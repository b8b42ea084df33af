/**
 * Incremental parser for `text/event-stream` (WHATWG HTML §9.2), separate from the network code so
 * chunk boundaries, ids and comments can be tested without a server.
 */

/** One dispatched event. */
export interface SseEvent {
  /** `message` when the stream named none. */
  event: string;
  data: string;
  /** The last event id seen so far in the stream (it persists across events, per spec). */
  lastEventId: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private lastEventId: string;
  private sawFirstChunk = false;
  /** Set when a chunk ended in CR, so a LF starting the next chunk is not a second line break. */
  private pendingCr = false;
  /** Reconnection delay the server asked for with `retry:`, in milliseconds. */
  retry: number | null = null;

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
  }

  /** The id to send as `Last-Event-ID` when reconnecting. */
  get eventId(): string {
    return this.lastEventId;
  }

  /** Feeds decoded text; returns the events completed by it. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.sawFirstChunk && text.length > 0) {
      this.sawFirstChunk = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;

    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (ch === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private processLine(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null; // comment, e.g. the relay's keep-alive `: ping`
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored, per spec
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const type = this.eventType;
    this.eventType = '';
    if (this.data.length === 0) return null;
    const data = this.data.join('\n');
    this.data = [];
    return { event: type || 'message', data, lastEventId: this.lastEventId };
  }
}
