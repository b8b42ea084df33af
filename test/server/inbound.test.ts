import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPlivoV3 } from '../../server/providers/plivo-signature.ts';
import { unassignedTexts } from '../../server/stores/message-bodies.ts';
import { cliOn } from '../helpers/cli.ts';
import {
  CUSTOMER,
  eventually,
  freshPgliteRelay,
  idemKey,
  optIn,
  seedOrg,
  TEST_TOKEN,
  type TestOrg,
  type TestRelay,
} from '../helpers/relay.ts';

let relay: TestRelay;
let org: TestOrg;
let baseUrl: string;

beforeAll(async () => {
  relay = await freshPgliteRelay();
  org = await seedOrg(relay.db);
  await relay.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

/** Reads an SSE stream until `count` events arrived (or the time runs out). */
function readEvents(
  path: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<{ id: string; event: string; data: { message: { id: string; body: string; status: string } } }[]> {
  return new Promise((resolve, reject) => {
    const events: {
      id: string;
      event: string;
      data: { message: { id: string; body: string; status: string } };
    }[] = [];
    const request = http.get(`${baseUrl}${path}`, { headers: { ...org.auth, ...headers } }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`SSE answered ${response.statusCode}`));
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':') && l.includes(': '))
              .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
          );
          // Message events only: a reply also announces its inbox routing (inbox.updated, tested in inbox.test.ts).
          if (fields.data !== undefined && fields.id !== undefined && fields.event?.startsWith('message.')) {
            events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) });
          }
          if (events.length >= count) {
            request.destroy();
            resolve(events);
            return;
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    request.on('error', (error) => {
      if (events.length < count) reject(error);
    });
    setTimeout(() => {
      request.destroy();
      reject(new Error(`only ${events.length} of ${count} events arrived`));
    }, 8000).unref();
  });
}

const textFromPhone = (text: string, handset = CUSTOMER) =>
  relay.sandbox.textFromHandset({ handset, service: org.sender, text });

describe('inbound texts', () => {
  it('stores a reply typed on the phone and publishes it on /v1/events', async () => {
    const stream = readEvents('/v1/events', 1);
    await new Promise((r) => setTimeout(r, 100));
    const { status } = await textFromPhone('Can we move to Friday?');
    expect(status).toBe(200);
    const [event] = await stream;
    expect(event?.event).toBe('message.created');
    expect(event?.data.message.body).toBe('Can we move to Friday?');
    const conversations = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent(CUSTOMER)}`,
      headers: org.auth,
    });
    const id = conversations.json().conversations[0].id;
    const messages = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations/${id}/messages`,
      headers: org.auth,
    });
    expect(messages.json().messages[0]).toMatchObject({
      direction: 'inbound',
      status: 'received',
      body: 'Can we move to Friday?',
    });
  });

  it('resumes the event stream after Last-Event-ID without losing or repeating events', async () => {
    const first = readEvents('/v1/events', 1);
    await new Promise((r) => setTimeout(r, 100));
    await textFromPhone('one');
    const [seen] = await first;
    await textFromPhone('two');
    await textFromPhone('three');
    const resumed = await readEvents('/v1/events', 2, { 'last-event-id': seen?.id ?? '' });
    expect(resumed.map((e) => e.data.message.body)).toEqual(['two', 'three']);
  });

  it('refuses an unparsable Last-Event-ID', async () => {
    const response = await relay.app.inject({
      method: 'GET',
      url: '/v1/events',
      headers: { ...org.auth, 'last-event-id': 'yesterday' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('INVALID_LAST_EVENT_ID');
  });

  it('stores a retried webhook once and refuses a replayed nonce', async () => {
    const params = {
      From: '12025550111',
      To: org.sender.slice(1),
      Text: 'dup',
      Type: 'sms',
      MessageUUID: 'dup-uuid-1',
    };
    const url = `${relay.config.publicUrl}/webhooks/plivo/inbound`;
    const deliver = (nonce: string) =>
      relay.app.inject({
        method: 'POST',
        url: '/webhooks/plivo/inbound',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-plivo-signature-v3': signPlivoV3('POST', url, params, nonce, TEST_TOKEN),
          'x-plivo-signature-v3-nonce': nonce,
        },
        payload: new URLSearchParams(params).toString(),
      });
    // Plivo retries with a fresh nonce: answered 200, stored once.
    expect((await deliver('11111111111111111111')).statusCode).toBe(200);
    expect((await deliver('22222222222222222222')).statusCode).toBe(200);
    // The same signed request again is a replay.
    const replay = await deliver('22222222222222222222');
    expect(replay.statusCode).toBe(403);
    expect(replay.json().error.code).toBe('REPLAYED_WEBHOOK');
    const rows = await relay.db.query(
      'SELECT count(*)::int AS n FROM messages WHERE provider_message_id = $1',
      ['dup-uuid-1'],
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('rejects an unsigned or tampered webhook with 403 and stores nothing', async () => {
    const params = {
      From: '12025550112',
      To: org.sender.slice(1),
      Text: 'forged',
      Type: 'sms',
      MessageUUID: 'forged-1',
    };
    const nonce = '98765432109876543210';
    const url = `${relay.config.publicUrl}/webhooks/plivo/inbound`;
    const good = signPlivoV3('POST', url, params, nonce, TEST_TOKEN);
    const attempts = [
      {},
      { 'x-plivo-signature-v3': good, 'x-plivo-signature-v3-nonce': '1' },
      {
        'x-plivo-signature-v3': signPlivoV3('POST', url, params, nonce, 'wrong-token'),
        'x-plivo-signature-v3-nonce': nonce,
      },
    ];
    for (const extra of attempts) {
      const r = await relay.app.inject({
        method: 'POST',
        url: '/webhooks/plivo/inbound',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
        payload: new URLSearchParams({ ...params, Text: 'tampered' }).toString(),
      });
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe('INVALID_SIGNATURE');
    }
    const rows = await relay.db.query(
      "SELECT count(*)::int AS n FROM messages WHERE provider_message_id = 'forged-1'",
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('keeps a text to a number no org owns as unassigned', async () => {
    await relay.sandbox.textFromHandset({ handset: CUSTOMER, service: '+14155550100', text: 'anyone?' });
    const stored = await relay.db.query<{ body: string }>('SELECT body, body_sealed FROM unassigned_inbound');
    expect(JSON.stringify(stored)).not.toContain('anyone?');
    expect((await unassignedTexts(relay.db)).map((t) => t.body)).toEqual(['anyone?']);
    // The operator reads it with `unassigned list`.
    const listed = await cliOn({ db: relay.db, config: relay.config }, 'unassigned', 'list');
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toMatch(/^to \+14155550100 from \+\d+ \(sandbox \S+\): anyone\?$/m);
  });
});

describe('STOP', () => {
  const phone = '+13035550161';

  it('opts the number out, fails what was queued, and sends exactly one confirmation', async () => {
    await optIn(relay.app, org, phone);
    const queued = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: phone, body: 'Special offer inside' },
    });
    expect(queued.statusCode).toBe(202);
    await textFromPhone('Stop', phone);
    await textFromPhone('STOP', phone);
    await relay.worker.drain();

    const consent = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(phone)}`,
      headers: org.auth,
    });
    expect(consent.json().status).toBe('opted_out');
    const message = await relay.app.inject({
      method: 'GET',
      url: `/v1/messages/${queued.json().message.id}`,
      headers: org.auth,
    });
    expect(message.json().message).toMatchObject({ status: 'failed', errorCode: 'OPTED_OUT' });

    const handset = await eventually(async () => {
      const rows = await relay.db.query<{ body: string }>(
        "SELECT body FROM sandbox_sms WHERE handset_e164 = $1 AND direction = 'to_handset'",
        [phone],
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(handset).toHaveLength(1);
    expect(handset[0]?.body).toMatch(/unsubscribed/);

    const after = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: phone, body: 'Are you sure?' },
    });
    expect(after.statusCode).toBe(422);
    expect(after.json().error.code).toBe('OPTED_OUT');
  });

  it('lets START opt the number back in with a confirmation', async () => {
    await textFromPhone('START', phone);
    const consent = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(phone)}`,
      headers: org.auth,
    });
    expect(consent.json()).toMatchObject({ status: 'opted_in', source: 'keyword' });
  });
});
