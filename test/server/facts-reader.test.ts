import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../server/db/database.ts';
import {
  BATCH_SQL,
  batchParams,
  type FactsAsk,
  factsOf,
  readFacts,
} from '../../server/sending-check/facts-reader.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { idemKey, optIn, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// #20 item 1: the send path's facts are read for every send of the moment in one statement. Each
// send must get exactly what it would have read alone, whatever the other sends in its batch ask.
postgresSkipNote('batched send facts');

describe.each(ENGINES)('the send facts read on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let acme: TestOrg;
  let other: TestOrg;
  const texted = '+12025550121';
  const quiet = '+12025550122';
  const sentIds: string[] = [];

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    acme = await seedOrg(db);
    other = await seedOrg(db, { name: 'Other Org', sender: '+12025550177' });
    for (const phone of [texted, quiet]) await optIn(relay.app, acme, phone);
    for (let i = 0; i < 3; i++) {
      const sent = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...acme.auth, 'idempotency-key': `facts-${i}` },
        payload: {
          from: acme.sender,
          to: texted,
          body: `Reminder ${i}`,
          contact: { crm: 'sandbox', objectType: 'contact', id: 'c-facts' },
        },
      });
      expect(sent.statusCode, sent.body).toBe(202);
      sentIds.push(sent.json().message.id);
    }
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const ask = (over: Partial<FactsAsk>): FactsAsk => ({
    orgId: acme.orgId,
    from: acme.sender,
    phone: phoneToken(db, texted),
    idempotencyKey: null,
    countUpTo: 0,
    since: relay.clock(),
    excluding: null,
    contact: null,
    answeringAs: null,
    answeredSince: null,
    ...over,
  });

  it('answers each ask of a mixed batch as it would be answered alone', async () => {
    const asks = [
      ask({}),
      ask({ countUpTo: 5 }),
      ask({ countUpTo: 2 }),
      ask({ countUpTo: 5, excluding: sentIds[0] ?? null }),
      ask({ idempotencyKey: 'facts-1' }),
      ask({ idempotencyKey: 'facts-1', orgId: other.orgId, from: other.sender }),
      ask({ contact: { crm: 'sandbox', objectType: 'contact', id: 'c-facts' } }),
      ask({ contact: { crm: 'sandbox', objectType: 'contact', id: 'c-nobody' } }),
      ask({ phone: phoneToken(db, quiet), countUpTo: 5 }),
      ask({ from: '+19995550100' }),
      ask({ orgId: randomUUID() }),
      ask({ orgId: other.orgId, countUpTo: 5 }),
      ask({ answeringAs: randomUUID(), answeredSince: new Date(relay.clock().getTime() - 60_000) }),
    ];
    const together = await readFacts(db, asks);
    const alone = [];
    for (const a of asks) alone.push((await readFacts(db, [a]))[0]);
    expect(together).toEqual(alone);
    const [plain, capped, capTwo, excluded, replay, otherOrg, contact, noContact, quietOne, noSender, noOrg] =
      together;
    expect(plain).toMatchObject({
      sender_id: expect.any(String),
      kind: 'opt_in',
      sent_24h: 0,
      replay_id: null,
    });
    expect(capped?.sent_24h).toBe(3);
    expect(capTwo?.sent_24h).toBe(2);
    expect(excluded?.sent_24h).toBe(2);
    expect(replay?.replay_id).toBe(sentIds[1]);
    // Another org's key is not this org's replay, nor are its sends counted here.
    expect(otherOrg?.replay_id).toBeNull();
    expect(together[11]?.sent_24h).toBe(0);
    expect(contact?.contact_time_zone).toBeNull();
    expect(noContact?.contact_time_zone).toBeNull();
    expect(quietOne).toMatchObject({ kind: 'opt_in', sent_24h: 0, last_message_at: null });
    expect(noSender?.sender_id).toBeNull();
    expect(noOrg).toBeUndefined();
    // No inbound text in the thread: no answer for the collision guard to ask about.
    expect(together[12]).toMatchObject({ kind: 'opt_in', answered_id: null, answered_at: null });
  });

  it('reads the sends of one moment in a couple of statements, each send its own answer', async () => {
    let statements = 0;
    const counting: Queryable = {
      ...db,
      query: ((sql: string, params?: unknown[]) => {
        statements += 1;
        return db.query(sql, params);
      }) as Queryable['query'],
    };
    const asks = Array.from({ length: 20 }, (_, i) =>
      ask({ idempotencyKey: i % 2 === 0 ? `facts-${i % 3}` : idemKey(), countUpTo: i % 4 }),
    );
    const answers = await Promise.all(asks.map((a) => factsOf(counting, a)));
    expect(statements).toBeLessThanOrEqual(3);
    const alone = [];
    for (const a of asks) alone.push((await readFacts(db, [a]))[0]);
    expect(answers).toEqual(alone);
  });

  it('is planned once for batches of every size, not afresh for each batch', async () => {
    // With one array per column, PostgreSQL judged each batch's own plan cheaper than the prepared
    // one (it counts a given array's rows, not a parameter's) and planned every batch again.
    const plans = await db.transaction(async (tx) => {
      await tx.query(`PREPARE facts_plan_probe(jsonb) AS ${BATCH_SQL}`);
      for (let size = 2; size <= 12; size++) {
        const [json] = batchParams(Array.from({ length: size }, (_, i) => ask({ countUpTo: i % 4 })));
        await tx.query(`EXECUTE facts_plan_probe('${json.replaceAll("'", "''")}'::jsonb)`);
      }
      const [stats] = await tx.query<{ generic_plans: number; custom_plans: number }>(
        `SELECT generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name = 'facts_plan_probe'`,
      );
      await tx.query('DEALLOCATE facts_plan_probe');
      return stats;
    });
    // PostgreSQL always tries its first five executions with their own plans, then keeps one.
    expect(plans).toEqual({ generic_plans: 6, custom_plans: 5 });
  });

  it('fails every send of a batch whose read fails, and the next batch reads again', async () => {
    let fail = true;
    const flaky: Queryable = {
      ...db,
      query: ((sql: string, params?: unknown[]) => {
        if (fail) return Promise.reject(new Error('connection reset'));
        return db.query(sql, params);
      }) as Queryable['query'],
    };
    const failed = await Promise.allSettled([factsOf(flaky, ask({})), factsOf(flaky, ask({}))]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await factsOf(flaky, ask({})))?.kind).toBe('opt_in');
  });
});
