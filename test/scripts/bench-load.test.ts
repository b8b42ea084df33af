import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../bench/load.ts';
import { requestBuilder } from '../bench/scenarios.ts';
import { cappedRecipients, MAX_CAPPED_RECIPIENTS } from '../helpers/sendable-recipients.ts';

const send = {
  kind: 'send' as const,
  authorization: 'Bearer k',
  from: '+12025550100',
  recipients: ['+1a', '+1b', '+1c'],
  body: 'hi',
  prefix: 'p',
};
const toOf = (request: { body?: string }) => (JSON.parse(request.body ?? '{}') as { to: string }).to;

describe('the send bench scenario (test/bench/scenarios.ts)', () => {
  it('texts one recipient per lane unless told to rotate', () => {
    const build = requestBuilder(send);
    expect([build(0, 0), build(1, 0), build(0, 1), build(4, 0)].map(toOf)).toEqual([
      '+1a',
      '+1b',
      '+1a',
      '+1b',
    ]);
  });

  it('takes the recipients in turn from rotateFrom on, whatever the lane, so none is texted twice early', () => {
    const build = requestBuilder({ ...send, rotateFrom: 2 });
    expect([build(0, 0), build(0, 1), build(5, 0), build(1, 7)].map(toOf)).toEqual([
      '+1c',
      '+1a',
      '+1b',
      '+1c',
    ]);
  });

  it("names each recipient's CRM record when given", () => {
    const build = requestBuilder({ ...send, contactIds: ['c1', 'c2', 'c3'] });
    expect(JSON.parse(build(1, 0).body ?? '{}').contact).toEqual({
      crm: 'sandbox',
      objectType: 'contact',
      id: 'c2',
    });
    expect(JSON.parse(requestBuilder(send)(1, 0).body ?? '{}').contact).toBeUndefined();
  });

  it('has capped recipients in Florida, then Maryland, all distinct, and refuses more than it has', () => {
    const phones = cappedRecipients(MAX_CAPPED_RECIPIENTS);
    expect(new Set(phones).size).toBe(MAX_CAPPED_RECIPIENTS);
    expect(phones[0]).toBe('+13055552000');
    expect(phones.at(-1)).toBe('+14105559999');
    expect(() => cappedRecipients(MAX_CAPPED_RECIPIENTS + 1)).toThrow(/at most/);
  });
});

describe('the load generator with subscribers (test/bench/load.ts)', () => {
  let server: http.Server;
  let origin: string;
  const streams = new Set<http.ServerResponse>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': connected\n\n');
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      }
      // Each request is one event to every stream; the event is cut in two writes, as a socket may.
      for (const stream of streams) {
        stream.write('event: message.created\nda');
        stream.write('ta: {"n":1}\n\n');
      }
      res.writeHead(202).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const stream of streams) stream.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('holds the streams open through the stretch and counts every event each one read', async () => {
    const run = await runLoad({
      origin,
      concurrency: 2,
      durationMs: 60_000,
      maxRequests: 10,
      expectStatus: 202,
      build: () => ({ method: 'POST', path: '/send', headers: {}, body: '{}' }),
      subscribers: { count: 3, path: '/events', headers: {} },
    });
    expect(run.ok).toBe(10);
    expect(run.subscriberEvents).toBe(30);
    expect(run.firstProblem).toBeNull();
    // The streams are dropped with the stretch.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(streams.size).toBe(0);
  });

  it('fails the stretch at once when a stream is refused', async () => {
    await expect(
      runLoad({
        origin,
        concurrency: 1,
        durationMs: 1000,
        maxRequests: 1,
        expectStatus: 202,
        build: () => ({ method: 'POST', path: '/send', headers: {}, body: '{}' }),
        subscribers: { count: 2, path: '/nope', headers: {} },
      }),
    ).rejects.toThrow(/HTTP 202/);
  });
});
