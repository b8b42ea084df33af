import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
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

  it('runs its trigger only for a job without a destination', async () => {
    const [trigger] = await db.query<{ definition: string }>(
      `SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE tgname = 'outbox_jobs_destination'`,
    );
    expect(trigger?.definition).toMatch(/WHEN \(\(new\.to_e164 IS NULL\)\)/);
  });
});
