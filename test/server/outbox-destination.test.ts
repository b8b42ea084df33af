import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { failQueuedAfterOptOut } from '../../server/stores/consent-store.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { optIn, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// Issue #20: the send path writes each outbox job with its destination, so the trigger that fills
// it in (migration 004) only runs for a job written without one (migration 052).
postgresSkipNote('outbox job destination');

describe.each(ENGINES)('an outbox job destination on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let acme: TestOrg;
  let messageId: string;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    acme = await seedOrg(db);
    await optIn(relay.app, acme, '+12025550131');
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...acme.auth, 'idempotency-key': 'destination-1' },
      payload: { from: acme.sender, to: '+12025550131', body: 'Your order is ready.' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    messageId = sent.json().message.id;
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('is written by the send itself, the same as its message', async () => {
    const [row] = await db.query<{ job: string; message: string }>(
      `SELECT j.to_e164 AS job, m.to_e164 AS message FROM outbox_jobs j JOIN messages m ON m.id = j.message_id
        WHERE m.id = $1`,
      [messageId],
    );
    expect(row?.job).toBeTruthy();
    expect(row?.job).toBe(row?.message);
  });

  it('is still filled in from the message for a job written without one', async () => {
    await db.query(`DELETE FROM outbox_jobs WHERE message_id = $1`, [messageId]);
    await db.query(
      `INSERT INTO outbox_jobs (message_id, org_id, state, sender_number_id)
       SELECT id, org_id, 'done', (SELECT id FROM sender_numbers WHERE org_id = $2 LIMIT 1) FROM messages WHERE id = $1`,
      [messageId, acme.orgId],
    );
    const [row] = await db.query<{ job: string | null; message: string }>(
      `SELECT j.to_e164 AS job, m.to_e164 AS message FROM outbox_jobs j JOIN messages m ON m.id = j.message_id
        WHERE m.id = $1`,
      [messageId],
    );
    expect(row?.job).toBe(row?.message);
  });

  it("fails an opted-out phone's queued texts by their destination, no other phone's, no other org's", async () => {
    const other = await seedOrg(db, { name: 'Other Org', sender: '+12025550178' });
    const [a, b] = ['+12025550141', '+12025550142'];
    for (const phone of [a, b]) await optIn(relay.app, acme, phone);
    await optIn(relay.app, other, a);
    const send = async (org: TestOrg, to: string, key: string) => {
      const sent = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...org.auth, 'idempotency-key': key },
        payload: { from: org.sender, to, body: 'See you on Tuesday.' },
      });
      expect(sent.statusCode, sent.body).toBe(202);
      return sent.json().message.id as string;
    };
    const toA = [await send(acme, a, 'fail-a-1'), await send(acme, a, 'fail-a-2')];
    const toB = await send(acme, b, 'fail-b-1');
    const otherToA = await send(other, a, 'fail-other-a');
    const failed = await db.transaction((tx) => failQueuedAfterOptOut(tx, acme.orgId, a));
    expect(failed).toBe(2);
    const states = await db.query<{ message_id: string; state: string }>(
      'SELECT message_id, state FROM outbox_jobs WHERE message_id = ANY($1::uuid[])',
      [[...toA, toB, otherToA]],
    );
    const stateOf = new Map(states.map((r) => [r.message_id, r.state]));
    expect(toA.map((id) => stateOf.get(id))).toEqual(['failed', 'failed']);
    expect(stateOf.get(toB)).toBe('queued');
    expect(stateOf.get(otherToA)).toBe('queued');
  });

  it('runs its trigger only for a job without a destination', async () => {
    const [trigger] = await db.query<{ definition: string }>(
      `SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE tgname = 'outbox_jobs_destination'`,
    );
    expect(trigger?.definition).toMatch(/WHEN \(\(new\.to_e164 IS NULL\)\)/);
  });
});
