import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPlivoV3 } from '../../server/providers/plivo-signature.ts';
import {
  CUSTOMER,
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
let nonce = 10_000_000_000;

beforeAll(async () => {
  // Callbacks from the sandbox network come far later than this file needs: it posts its own.
  relay = await freshPgliteRelay({ delays: { sentMs: 60_000, deliveredMs: 60_000 } });
  org = await seedOrg(relay.db);
  await optIn(relay.app, org, CUSTOMER);
});
afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

function callback(params: Record<string, string>) {
  nonce += 1;
  const url = `${relay.config.publicUrl}/webhooks/plivo/status`;
  return relay.app.inject({
    method: 'POST',
    url: '/webhooks/plivo/status',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signPlivoV3('POST', url, params, String(nonce), TEST_TOKEN),
      'x-plivo-signature-v3-nonce': String(nonce),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

async function sentMessage(): Promise<{ id: string; providerId: string }> {
  const response = await relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...org.auth, 'idempotency-key': idemKey() },
    payload: { from: org.sender, to: CUSTOMER, body: 'Status test' },
  });
  const id: string = response.json().message.id;
  await relay.worker.drain();
  const rows = await relay.db.query<{ provider_message_id: string }>(
    'SELECT provider_message_id FROM messages WHERE id = $1',
    [id],
  );
  return { id, providerId: rows[0]?.provider_message_id as string };
}

const statusOf = async (id: string) =>
  (await relay.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: org.auth })).json();

describe('delivery status callbacks', () => {
  it('applies callbacks in Sequence order and ignores a stale one arriving late', async () => {
    const { id, providerId } = await sentMessage();
    const base = {
      MessageUUID: providerId,
      From: org.sender.slice(1),
      To: CUSTOMER.slice(1),
      Units: '2',
      TotalAmount: '0.01000',
    };
    expect(
      (await callback({ ...base, Status: 'delivered', Sequence: '2', ErrorCode: '000' })).statusCode,
    ).toBe(200);
    expect((await callback({ ...base, Status: 'sent', Sequence: '1', ErrorCode: '000' })).statusCode).toBe(
      200,
    );
    const body = await statusOf(id);
    expect(body.message.status).toBe('delivered');
    expect(body.statusHistory.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
    ]);
    const cost = await relay.db.query(
      'SELECT provider_units, provider_cost::text AS cost FROM messages WHERE id = $1',
      [id],
    );
    expect(cost).toEqual([{ provider_units: 2, cost: '0.01000' }]);
  });

  it('maps a failure with its raw error code and a plain explanation', async () => {
    const { id, providerId } = await sentMessage();
    await callback({ MessageUUID: providerId, Status: 'undelivered', Sequence: '2', ErrorCode: '30' });
    const body = await statusOf(id);
    expect(body.message).toMatchObject({ status: 'undelivered', errorCode: '30' });
    expect(body.message.errorMessage).toMatch(/spam/);
  });

  it('keeps a callback for an unknown message and applies it once the message is known', async () => {
    const early = await callback({
      MessageUUID: 'not-yet-known',
      Status: 'delivered',
      Sequence: '2',
      ErrorCode: '000',
    });
    expect(early.statusCode).toBe(200);
    const kept = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM unmatched_status_callbacks WHERE provider_message_id = 'not-yet-known' AND applied_at IS NULL`,
    );
    expect(kept).toEqual([{ n: 1 }]);
    // The send's own record arrives (as after a slow commit): the kept callback is applied then.
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Late record' },
    });
    const id: string = response.json().message.id;
    const { recordAcceptance } = await import('../../server/inbound/status-callbacks.ts');
    await relay.db.transaction((tx) =>
      recordAcceptance(tx, { provider: 'sandbox', messageId: id, providerMessageId: 'not-yet-known' }),
    );
    expect((await statusOf(id)).message.status).toBe('delivered');
  });
});
