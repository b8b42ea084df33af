import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { decodePageCursor, encodePageCursor } from '../../server/http/page-cursor.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

/**
 * Issue #13, finding 10: a cursor shaped like the ones the relay hands out but holding values
 * PostgreSQL refuses must be the client's 400, never a 500 with a database error in the log; and
 * a request whose headers are too large is answered in the error envelope like every other refusal.
 */

postgresSkipNote('bad cursors and headers');

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const ID = '00000000-0000-4000-8000-000000000000';

describe.each(ENGINES)('on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let org: TestOrg;
  let conversationId: string;
  const logged: string[] = [];

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    org = await seedOrg(db);
    await optIn(relay.app, org, CUSTOMER);
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Your appointment is at 3pm.' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const list = await relay.app.inject({ method: 'GET', url: '/v1/conversations', headers: org.auth });
    conversationId = list.json().conversations[0].id;
    relay.app.log.error = ((...args: unknown[]) => {
      logged.push(JSON.stringify(args));
    }) as typeof relay.app.log.error;
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it.each([
    ['a time zone displacement of 99 hours', '9999-12-31 23:59:59.999999+99'],
    ['a time zone displacement of 16 hours', '2026-01-01 00:00:00+16'],
    ['an offset of 99 minutes', '2026-01-01 00:00:00+05:99'],
    ['the 31st of February', '2026-02-31 00:00:00+00'],
    ['the 29th of February in a common year', '2027-02-29 12:00:00+00'],
    ['year zero', '0000-01-01 00:00:00+00'],
  ])(
    'refuses a crafted cursor with %s as 400 INVALID_CURSOR without asking the database',
    async (_name, at) => {
      logged.length = 0;
      const response = await relay.app.inject({
        method: 'GET',
        url: `/v1/conversations/${conversationId}/messages?cursor=${cursorOf([at, ID])}`,
        headers: org.auth,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'INVALID_CURSOR' } });
      expect(logged).toEqual([]);
    },
  );

  it('still pages with the cursors it hands out, including a far-but-valid one', async () => {
    const first = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations/${conversationId}/messages?cursor=${cursorOf(['9999-12-31 23:59:59.999999+15:59', ID])}`,
      headers: org.auth,
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().messages.length).toBeGreaterThan(0);
  });
});

describe('headers too large', () => {
  let relay: TestRelay;
  let db: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase('pglite'));
    relay = await testRelay(db);
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('answers 431 in the error envelope with HEADERS_TOO_LARGE', async () => {
    const address = relay.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(address.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
      socket.write(
        `GET /healthz HTTP/1.1\r\nHost: relay.test\r\nX-Padding: ${'a'.repeat(32 * 1024)}\r\n\r\n`,
      );
    });
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: expect.stringMatching(/header/i) },
    });
  });
});

describe('decodePageCursor', () => {
  it.each([
    '9999-12-31 23:59:59.999999+99',
    '2026-02-31 00:00:00+00',
    '2026-04-31 00:00:00+00',
    '2027-02-29 12:00:00+00',
    '2026-01-01 24:00:00+00',
    '2026-01-01 00:00:00+05:30:60',
    '2026-01-01T00:00:00Z',
  ])('refuses %s before any database sees it', (at) => {
    expect(() => decodePageCursor(cursorOf([at, ID]))).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'INVALID_CURSOR' }),
    );
  });

  it.each([
    '2026-11-20 17:00:00.123456+00',
    '2028-02-29 00:00:00+00',
    '2026-11-20 12:00:00-05',
    '1883-11-18 12:00:00-04:56:02',
    '9999-12-31 23:59:59.999999+15:59',
  ])('accepts %s as PostgreSQL prints it, and gives it back unchanged', (at) => {
    expect(decodePageCursor(encodePageCursor({ createdAt: at, id: ID }))).toEqual({ createdAt: at, id: ID });
  });
});
