// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../extension/lib/relay/sse-parser.ts';

function feed(chunks: string[], parser = new SseParser()) {
  return chunks.flatMap((c) => parser.push(c));
}

describe('SSE parser', () => {
  it('dispatches a named event with its id', () => {
    expect(feed(['event: message.created\nid: 7\ndata: {"a":1}\n\n'])).toEqual([
      { event: 'message.created', data: '{"a":1}', lastEventId: '7' },
    ]);
  });

  it('assembles events split at every possible chunk boundary', () => {
    const stream = 'id: 1\nevent: message.updated\ndata: {"x":"y"}\n\n: ping\n\nid: 2\ndata: second\n\n';
    for (let i = 0; i <= stream.length; i++) {
      const events = feed([stream.slice(0, i), stream.slice(i)]);
      expect(events).toEqual([
        { event: 'message.updated', data: '{"x":"y"}', lastEventId: '1' },
        { event: 'message', data: 'second', lastEventId: '2' },
      ]);
    }
  });

  it('feeds one character at a time', () => {
    const stream = 'data: a\r\ndata: b\r\n\r\n';
    expect(feed(Array.from(stream))).toEqual([{ event: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('joins multi-line data with newlines and keeps inner colons and spaces', () => {
    expect(feed(['data: line one\ndata:line two\ndata:  indented: yes\n\n'])[0]?.data).toBe(
      'line one\nline two\n indented: yes',
    );
  });

  it('treats CR, LF and CRLF as line ends, including CRLF split across chunks', () => {
    expect(feed(['data: a\r', '\ndata: b\r\r'])).toEqual([
      { event: 'message', data: 'a\nb', lastEventId: '' },
    ]);
  });

  it('ignores comments such as the keep-alive ping', () => {
    expect(feed([': ping\n\n', ':another\n', 'data: x\n\n'])).toEqual([
      { event: 'message', data: 'x', lastEventId: '' },
    ]);
  });

  it('keeps the last id across events and updates it even without data', () => {
    const parser = new SseParser('5');
    expect(feed(['data: a\n\n'], parser)[0]?.lastEventId).toBe('5');
    expect(feed(['id: 9\n\n'], parser)).toEqual([]);
    expect(parser.eventId).toBe('9');
    expect(feed(['data: b\n\n'], parser)[0]?.lastEventId).toBe('9');
  });

  it('ignores ids containing NUL and unknown fields', () => {
    const parser = new SseParser();
    expect(feed(['id: bad\0id\nfoo: bar\ndata: x\n\n'], parser)).toEqual([
      { event: 'message', data: 'x', lastEventId: '' },
    ]);
  });

  it('resets the event name after each dispatch', () => {
    expect(feed(['event: a\ndata: 1\n\ndata: 2\n\n']).map((e) => e.event)).toEqual(['a', 'message']);
  });

  it('does not dispatch an incomplete event', () => {
    expect(feed(['data: partial\n'])).toEqual([]);
  });

  it('reads retry and strips a leading BOM', () => {
    const parser = new SseParser();
    expect(feed(['\ufeffretry: 2500\ndata: x\n\n'], parser)).toHaveLength(1);
    expect(parser.retry).toBe(2500);
    feed(['retry: soon\n\n'], parser);
    expect(parser.retry).toBe(2500);
  });

  it('treats a field line without colon as an empty value', () => {
    expect(feed(['data\ndata\n\n'])[0]?.data).toBe('\n');
  });
});
