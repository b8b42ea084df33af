import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { openEventPayload } from '../../server/stores/message-bodies.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { optIn, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

postgresSkipNote('batched sends');

describe.each(ENGINES)('concurrent sends on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let org: TestOrg;
  const phones = ['+12025550111', '+12025550112', '+12025550113', '+12025550114'];

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    org = await seedOrg(db);
    for (const phone of phones) await optIn(relay.app, org, phone);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('stores each of many simultaneous sends once, with replays and contacts, through group commit', async () => {
    const requests = Array.from({ length: 60 }, (_, i) => ({
      // Every fifth request reuses the key of the one before it: a client retrying in parallel.
      key: `burst-${i % 5 === 4 ? i - 1 : i}`,
      to: phones[i % phones.length] as string,
      body: `Burst message ${i % 5 === 4 ? i - 1 : i}`,
      contact:
        i % 3 === 0 ? { crm: 'sandbox', objectType: 'contact', id: `c-${i % phones.length}` } : undefined,
    }));
    for (const r of requests) {
      // A retry must carry the same request as its original.
      const original = requests.find((o) => o.key === r.key);
      if (original !== undefined) {
        r.to = original.to;
        r.contact = original.contact;
      }
    }
    const responses = await Promise.all(
      requests.map((r) =>
        relay.app.inject({
          method: 'POST',
          url: '/v1/messages',
          headers: { ...org.auth, 'idempotency-key': r.key },
          payload: {
            from: org.sender,
            to: r.to,
            body: r.body,
            ...(r.contact === undefined ? {} : { contact: r.contact }),
          },
        }),
      ),
    );
    for (const response of responses) expect(response.statusCode, response.body).toBe(202);
    const idsByKey = new Map<string, Set<string>>();
    responses.forEach((response, i) => {
      const key = requests[i]?.key as string;
      const set = idsByKey.get(key) ?? new Set();
      set.add(response.json().message.id);
      idsByKey.set(key, set);
    });
    for (const ids of idsByKey.values()) expect(ids.size).toBe(1);
    const distinctKeys = idsByKey.size;
    const counts = await db.query<{ messages: number; jobs: number; events: number; history: number }>(
      `SELECT (SELECT count(*)::int FROM messages WHERE idempotency_key LIKE 'burst-%') AS messages,
              (SELECT count(*)::int FROM outbox_jobs j JOIN messages m ON m.id = j.message_id WHERE m.idempotency_key LIKE 'burst-%') AS jobs,
              (SELECT count(*)::int FROM events e JOIN messages m ON m.id::text = e.payload->'message'->>'id'
                WHERE e.type = 'message.created' AND m.idempotency_key LIKE 'burst-%') AS events,
              (SELECT count(*)::int FROM message_status_events s JOIN messages m ON m.id = s.message_id WHERE m.idempotency_key LIKE 'burst-%') AS history`,
    );
    expect(counts[0]).toEqual({
      messages: distinctKeys,
      jobs: distinctKeys,
      events: distinctKeys,
      history: distinctKeys,
    });
    const threads = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM conversations WHERE org_id = $1',
      [org.orgId],
    );
    expect(threads[0]?.n).toBe(phones.length);
    const [event] = await db.query<{ org_id: string; payload: unknown }>(
      `SELECT e.org_id, e.payload FROM events e JOIN messages m ON m.id::text = e.payload->'message'->>'id'
        WHERE e.type = 'message.created' AND m.idempotency_key = 'burst-0'`,
    );
    // Stored sealed (043_sealed_bodies.sql); the first text of each thread carries the first-contact notice.
    expect(JSON.stringify(event?.payload)).not.toContain('Burst message 0');
    const opened = (await openEventPayload(db, event?.org_id ?? '', event?.payload)) as { message: object };
    expect(opened.message).toMatchObject({ status: 'queued', sentBy: 'test key', to: phones[0] });
    expect(opened.message).toHaveProperty('body', expect.stringContaining('Burst message 0'));
  });
});
