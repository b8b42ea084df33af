import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import {
  CUSTOMER,
  eventually,
  freshPgliteRelay,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
} from '../helpers/relay.ts';

let relay: TestRelay;
let db: Database;
let org: TestOrg;

beforeAll(async () => {
  relay = await freshPgliteRelay();
  db = relay.db;
  org = await seedOrg(db);
  await optIn(relay.app, org, CUSTOMER);
});
afterAll(async () => {
  await relay.close();
  await db.close();
});

const send = (payload: unknown, headers: Record<string, string> = {}) =>
  relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...org.auth, 'idempotency-key': idemKey(), ...headers },
    payload: payload as Record<string, unknown>,
  });

describe('POST /v1/messages', () => {
  it('refuses a request without credentials with 401', async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'idempotency-key': 'k1' },
      payload: { from: org.sender, to: CUSTOMER, body: 'hi' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('accepts a message to an opted-in number with 202 and queues it', async () => {
    const response = await send({ from: org.sender, to: CUSTOMER, body: 'Your appointment is at 3pm.' });
    expect(response.statusCode).toBe(202);
    const { message } = response.json();
    expect(message).toMatchObject({
      direction: 'outbound',
      status: 'queued',
      segments: 1,
      encoding: 'GSM-7',
      to: CUSTOMER,
    });
    const jobs = await db.query('SELECT state FROM outbox_jobs WHERE message_id = $1', [message.id]);
    expect(jobs).toEqual([{ state: 'queued' }]);
  });

  it('returns the same message for the same idempotency key and queues nothing new', async () => {
    const key = idemKey();
    const first = await send(
      { from: org.sender, to: CUSTOMER, body: 'Once only' },
      { 'idempotency-key': key },
    );
    const second = await send(
      { from: org.sender, to: CUSTOMER, body: 'Once only' },
      { 'idempotency-key': key },
    );
    expect(second.statusCode).toBe(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().message.id).toBe(first.json().message.id);
    const rows = await db.query('SELECT count(*)::int AS n FROM messages WHERE idempotency_key = $1', [key]);
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('refuses a reused idempotency key with a different body and changes nothing', async () => {
    const key = idemKey();
    await send({ from: org.sender, to: CUSTOMER, body: 'First' }, { 'idempotency-key': key });
    const again = await send(
      { from: org.sender, to: CUSTOMER, body: 'Different' },
      { 'idempotency-key': key },
    );
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('requires an idempotency key', async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: org.auth,
      payload: { from: org.sender, to: CUSTOMER, body: 'hi' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
  });

  it('refuses a number without a recorded opt-in with NO_CONSENT', async () => {
    const response = await send({ from: org.sender, to: '+13125550178', body: 'hello' });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('NO_CONSENT');
  });

  it('refuses a sender number of another org', async () => {
    const other = await seedOrg(db, { name: 'Other Co', sender: '+13125550100' });
    const response = await send({ from: other.sender, to: CUSTOMER, body: 'hello' });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('UNKNOWN_SENDER_NUMBER');
  });

  it.each([
    ['an impossible phone number', { to: '+12345678' }, 422, 'INVALID_PHONE_NUMBER'],
    ['words instead of a number', { to: 'call me' }, 422, 'INVALID_PHONE_NUMBER'],
    ['a wrong type', { body: 42 }, 400, 'VALIDATION_FAILED'],
    ['an unknown field', { cc: '+12025550143' }, 400, 'VALIDATION_FAILED'],
    ['a body too long for one text', { body: 'x'.repeat(2000) }, 422, 'BODY_TOO_LONG'],
    ['a body longer than any text', { body: 'x'.repeat(8001) }, 400, 'VALIDATION_FAILED'],
    ['a blank body', { body: '   ' }, 422, 'EMPTY_BODY'],
  ])('refuses %s with a stable code', async (_name, patch, status, code) => {
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const response = await send({ from: org.sender, to: CUSTOMER, body: 'hello', ...patch });
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
    expect(await db.query('SELECT count(*)::int AS n FROM messages')).toEqual(before);
  });

  it.each([
    [
      'an over-long text',
      `${'€'.repeat(800)}x`,
      '1,601 characters (€ counts as two); at most 1,600 fit in one text.',
    ],
    ['a 2,000-character text', 'x'.repeat(2000), '2,000 characters; at most 1,600 fit in one text.'],
    [
      'an over-long text with emoji',
      `${'é'.repeat(799)}😀`,
      '800 characters; at most 737 fit in one text with emoji or other special characters.',
    ],
  ])('says how long %s is and how much one text holds', async (_name, body, said) => {
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const response = await send({ from: org.sender, to: CUSTOMER, body });
    expect(response.statusCode).toBe(422);
    const { error } = response.json();
    expect(error.code).toBe('BODY_TOO_LONG');
    expect(error.message).toBe(`The message is too long: ${said}`);
    expect(await db.query('SELECT count(*)::int AS n FROM messages')).toEqual(before);
  });

  it('answers malformed JSON and oversized bodies with the error envelope', async () => {
    const malformed = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey(), 'content-type': 'application/json' },
      payload: '{"from": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('MALFORMED_JSON');
    const huge = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey(), 'content-type': 'application/json' },
      payload: JSON.stringify({ from: org.sender, to: CUSTOMER, body: 'x'.repeat(70_000) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('delivery through the sandbox network', () => {
  it('sends a queued message once and follows its status to delivered', async () => {
    const response = await send({ from: org.sender, to: CUSTOMER, body: 'See you soon' });
    const id: string = response.json().message.id;
    await relay.worker.drain();
    const delivered = await eventually(async () => {
      const r = await relay.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: org.auth });
      const body = r.json();
      return body.message.status === 'delivered' ? body : undefined;
    });
    expect(delivered.statusHistory.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
    ]);
    const handset = await db.query('SELECT count(*)::int AS n FROM sandbox_sms WHERE client_ref = $1', [id]);
    expect(handset).toEqual([{ n: 1 }]);
  });

  it('reports a sandbox number that cannot receive texts as undelivered, in plain words', async () => {
    const unreachable = '+16175550199';
    await optIn(relay.app, org, unreachable);
    const response = await send({ from: org.sender, to: unreachable, body: 'Hello?' });
    const id: string = response.json().message.id;
    await relay.worker.drain();
    const message = await eventually(async () => {
      const r = await relay.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: org.auth });
      const m = r.json().message;
      return m.status === 'undelivered' ? m : undefined;
    });
    expect(message.errorCode).toBe('50');
    expect(message.errorMessage).toMatch(/cannot receive texts/);
  });

  it('lists conversations by phone and pages messages newest first', async () => {
    const list = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent(CUSTOMER)}`,
      headers: org.auth,
    });
    expect(list.statusCode).toBe(200);
    const [conversation] = list.json().conversations;
    expect(conversation).toMatchObject({ contactPhone: CUSTOMER, senderNumber: org.sender });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/conversations/${conversation.id}/messages?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page = await relay.app.inject({ method: 'GET', url, headers: org.auth });
      expect(page.statusCode).toBe(200);
      const body = page.json();
      seen.push(...body.messages.map((m: { id: string; createdAt: string }) => m.createdAt));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    const total = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1',
      [conversation.id],
    );
    expect(seen).toHaveLength(total[0]?.n ?? -1);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('refuses a made-up cursor', async () => {
    const list = await relay.app.inject({ method: 'GET', url: '/v1/conversations', headers: org.auth });
    const id = list.json().conversations[0].id;
    const response = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations/${id}/messages?cursor=bogus`,
      headers: org.auth,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('INVALID_CURSOR');
  });
});
