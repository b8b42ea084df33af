import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { TableUpkeepWorker, upkeepTables } from '../../server/db/table-upkeep.ts';
import { freshPglite, freshPostgres, POSTGRES_URL, postgresSkipNote } from '../helpers/db.ts';
import { seedOrg, type TestOrg } from '../helpers/relay.ts';

/**
 * PGlite has no autovacuum. Without the relay's upkeep its tables are never analyzed, and the
 * send path's replay lookup kept a plan chosen on the empty messages table: it walked every
 * message of the org (messages_org_age) instead of the idempotency index, so each send grew
 * slower as the org's history grew (the send bench sank round after round).
 */

const MESSAGES = 3000;

async function seedMessages(db: Database, org: TestOrg): Promise<void> {
  await db.query(
    `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone)
     VALUES (gen_random_uuid(), $1, (SELECT id FROM sender_numbers WHERE org_id = $1), '+12025550100')`,
    [org.orgId],
  );
  await db.query(
    `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments,
                           encoding, idempotency_key, redactions)
     SELECT gen_random_uuid(), $1, (SELECT id FROM conversations WHERE org_id = $1), 'outbound', $2,
            '+12025550100', 'hello', 'queued', 1, 'GSM-7', 'key-' || i, '[]'::jsonb
       FROM generate_series(1, $3::int) i`,
    [org.orgId, org.sender, MESSAGES],
  );
}

/**
 * Prepares the replay lookup as a long-lived connection does, while messages is still empty: its
 * generic plan is cached then, and kept until the table's statistics change.
 */
async function prepareReplayLookup(db: Database): Promise<void> {
  await db.query('SET plan_cache_mode = force_generic_plan');
  await db.query(
    'PREPARE replay_lookup (uuid, text) AS SELECT id FROM messages WHERE org_id = $1 AND idempotency_key = $2',
  );
  await replayLookupIndex(db);
}

/** The index the cached plan reads to find a replayed send. */
async function replayLookupIndex(db: Database): Promise<string> {
  const rows = await db.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN EXECUTE replay_lookup ('00000000-0000-0000-0000-000000000000', 'key-7')`,
  );
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  return /using (\w+)/.exec(plan)?.[1] ?? plan;
}

describe('table upkeep on PGlite', () => {
  let db: Database;
  let org: TestOrg;

  beforeEach(async () => {
    db = await freshPglite();
    org = await seedOrg(db);
    await prepareReplayLookup(db);
    await seedMessages(db, org);
  });
  afterEach(async () => {
    await db.close();
  });

  it('analyzes the tables that changed, so a replay is found through the idempotency index', async () => {
    const report = await upkeepTables(db);
    expect(report.analyzed).toContain('messages');
    expect(await replayLookupIndex(db)).toBe('messages_idempotency_unique');
  });

  it('leaves alone what has not changed since, and vacuums a table whose rows died', async () => {
    await upkeepTables(db);
    const quiet = await upkeepTables(db);
    expect([...quiet.analyzed, ...quiet.vacuumed]).toEqual([]);

    await db.query(`UPDATE messages SET status = 'sent' WHERE org_id = $1`, [org.orgId]);
    const after = await upkeepTables(db);
    expect(after.vacuumed).toContain('messages');
    const [stats] = await db.query<{ dead: string }>(
      `SELECT n_dead_tup AS dead FROM pg_stat_user_tables WHERE relname = 'messages'`,
    );
    expect(Number(stats?.dead)).toBe(0);
  });

  it('runs on the worker’s timer and stops cleanly', async () => {
    const lines: string[] = [];
    const worker = new TableUpkeepWorker({
      db,
      log: (_level, message) => lines.push(message),
      intervalMs: 20,
    });
    worker.start();
    await expect
      .poll(async () => await replayLookupIndex(db), { timeout: 5000 })
      .toBe('messages_idempotency_unique');
    await worker.stop();
    expect(lines.filter((l) => l.includes('failed'))).toEqual([]);
  });
});

postgresSkipNote('table upkeep on PostgreSQL');

describe.skipIf(POSTGRES_URL === null)('table upkeep on PostgreSQL', () => {
  it('does nothing: autovacuum keeps PostgreSQL’s statistics', async () => {
    const { db, drop } = await freshPostgres();
    try {
      const org = await seedOrg(db);
      await seedMessages(db, org);
      const report = await upkeepTables(db);
      expect(report).toMatchObject({ analyzed: [], vacuumed: [] });
    } finally {
      await drop();
    }
  });
});
