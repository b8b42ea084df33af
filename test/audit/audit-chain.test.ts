import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash } from '../../server/audit/audit-chain.ts';
import { appendAudit } from '../../server/audit/audit-log.ts';
import { verifyOrgChain } from '../../server/audit/audit-verify.ts';
import type { Database } from '../../server/db/database.ts';
import { migrate } from '../../server/db/migrate.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { createOrg } from '../../server/organisations/org-admin.ts';
import { cli } from '../helpers/cli.ts';
import { ENGINES, freshDatabase, freshPostgres, POSTGRES_URL, postgresSkipNote } from '../helpers/db.ts';

// Tampering is done as an attacker with database access would: the append-only trigger switched off.

const T0 = Date.parse('2026-11-02T09:00:00.000Z');

async function seedChain(db: Database, n = 5): Promise<string> {
  const { orgId } = await createOrg(db, 'Chain Dental');
  for (let i = 1; i <= n; i++) {
    await appendAudit(db, {
      orgId,
      actor: 'cli',
      action: i % 2 === 0 ? 'settings.changed' : 'user.role_changed',
      target: { type: 'user', id: `u${i}` },
      at: new Date(T0 + i * 1000),
      before: { role: 'rep', n: i },
      after: { role: 'manager', n: i },
      detail: { note: `entry ${i}`, nested: { b: 2, a: 1 } },
      ip: '203.0.113.9',
    });
  }
  return orgId;
}

async function tamper(db: Database, sql: string, params: unknown[] = []): Promise<void> {
  await db.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
  await db.query(sql, params);
  await db.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
}

postgresSkipNote('audit chain tampering');

describe.each(ENGINES)('audit chain on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
  });
  afterAll(async () => drop());

  it('verifies an intact chain and counts its entries', async () => {
    const orgId = await seedChain(db);
    expect(await verifyOrgChain(db, orgId)).toMatchObject({ orgId, entries: 5, broken: null });
  });

  it('refuses to change or delete an entry while the trigger stands', async () => {
    const orgId = await seedChain(db, 1);
    await expect(db.query(`UPDATE audit_log SET actor = 'x' WHERE org_id = $1`, [orgId])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('DELETE FROM audit_log WHERE org_id = $1', [orgId])).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_chain_heads WHERE org_id = $1', [orgId])).rejects.toThrow(
      /forward/,
    );
  });

  it('names an edited entry', async () => {
    const orgId = await seedChain(db);
    await tamper(db, `UPDATE audit_log SET after = '{"role":"owner","n":3}' WHERE org_id = $1 AND seq = 3`, [
      orgId,
    ]);
    expect((await verifyOrgChain(db, orgId)).broken).toMatchObject({ seq: 3, problem: 'edited' });
  });

  it('names an entry whose time was moved', async () => {
    const orgId = await seedChain(db);
    await tamper(
      db,
      `UPDATE audit_log SET occurred_at = occurred_at - interval '1 day' WHERE org_id = $1 AND seq = 2`,
      [orgId],
    );
    expect((await verifyOrgChain(db, orgId)).broken).toMatchObject({ seq: 2, problem: 'edited' });
  });

  it('names a deleted middle entry as a gap', async () => {
    const orgId = await seedChain(db);
    await tamper(db, 'DELETE FROM audit_log WHERE org_id = $1 AND seq = 2', [orgId]);
    const { broken } = await verifyOrgChain(db, orgId);
    expect(broken).toMatchObject({ seq: 2, problem: 'missing' });
    expect(broken?.message).toMatch(/entry 2 is missing/);
  });

  it('names a deleted last entry against the separately recorded chain head', async () => {
    const orgId = await seedChain(db);
    await tamper(db, 'DELETE FROM audit_log WHERE org_id = $1 AND seq = 5', [orgId]);
    expect((await verifyOrgChain(db, orgId)).broken).toMatchObject({ seq: 5, problem: 'missing' });
  });

  it('names two swapped entries', async () => {
    const orgId = await seedChain(db);
    // Through a free number: the primary key is checked row by row.
    await tamper(db, 'UPDATE audit_log SET seq = 1002 WHERE org_id = $1 AND seq = 2', [orgId]);
    await tamper(db, 'UPDATE audit_log SET seq = 2 WHERE org_id = $1 AND seq = 3', [orgId]);
    await tamper(db, 'UPDATE audit_log SET seq = 3 WHERE org_id = $1 AND seq = 1002', [orgId]);
    expect((await verifyOrgChain(db, orgId)).broken).toMatchObject({ seq: 2, problem: 'out_of_order' });
  });

  it('names a forged entry inserted in the middle, even with a hash computed the published way', async () => {
    const orgId = await seedChain(db);
    const [second] = await db.query<{ hash: string }>(
      'SELECT hash FROM audit_log WHERE org_id = $1 AND seq = 2',
      [orgId],
    );
    const prevHash = second?.hash ?? '';
    const forged = {
      orgId,
      seq: 3,
      actor: 'cli',
      actorName: 'an operator (command line)',
      action: 'consent.recorded',
      targetType: null,
      targetId: null,
      occurredAt: new Date(T0 + 2500),
      before: null,
      after: null,
      detail: {},
      ip: null,
    };
    await tamper(db, 'UPDATE audit_log SET seq = seq + 100 WHERE org_id = $1 AND seq >= 3', [orgId]);
    await tamper(db, 'UPDATE audit_log SET seq = seq - 99 WHERE org_id = $1 AND seq >= 103', [orgId]);
    await tamper(
      db,
      `INSERT INTO audit_log (org_id, seq, actor, actor_name, action, occurred_at, detail, prev_hash, hash)
       VALUES ($1, 3, 'cli', 'an operator (command line)', 'consent.recorded', $2, '{}', $3, $4)`,
      [orgId, forged.occurredAt, prevHash, entryHash(forged, prevHash)],
    );
    // Entry 3 is a valid link; entry 4 (the old 3) no longer follows it.
    expect((await verifyOrgChain(db, orgId)).broken).toMatchObject({ seq: 4, problem: 'out_of_order' });
  });

  it('names a forged entry appended past the chain head', async () => {
    const orgId = await seedChain(db);
    await tamper(
      db,
      `INSERT INTO audit_log (org_id, seq, actor, actor_name, action, occurred_at, detail, prev_hash, hash)
       SELECT org_id, 6, actor, actor_name, action, occurred_at, detail, hash, hash FROM audit_log WHERE org_id = $1 AND seq = 5`,
      [orgId],
    );
    expect((await verifyOrgChain(db, orgId)).broken).toMatchObject({ seq: 6, problem: 'beyond_head' });
  });

  it('keeps one chain per org: another org starts at 1 and is not affected by tampering here', async () => {
    const tampered = await seedChain(db, 3);
    const other = await seedChain(db, 2);
    await tamper(db, `UPDATE audit_log SET actor_name = 'someone else' WHERE org_id = $1 AND seq = 1`, [
      tampered,
    ]);
    expect((await verifyOrgChain(db, tampered)).broken).toMatchObject({ seq: 1, problem: 'edited' });
    expect(await verifyOrgChain(db, other)).toMatchObject({ entries: 2, broken: null });
  });
});

describe.skipIf(POSTGRES_URL === null)('concurrent appends on PostgreSQL', () => {
  it('never fork the chain: 40 appends from 8 connections give sequence 1 to 40', async () => {
    const pg = await freshPostgres();
    try {
      const { orgId } = await createOrg(pg.db, 'Busy Dental');
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          appendAudit(pg.db, { orgId, actor: 'system', action: 'settings.changed', at: new Date(T0 + i) }),
        ),
      );
      const rows = await pg.db.query<{ seq: number }>(
        'SELECT seq FROM audit_log WHERE org_id = $1 ORDER BY seq',
        [orgId],
      );
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await verifyOrgChain(pg.db, orgId)).toMatchObject({ entries: 40, broken: null });
    } finally {
      await pg.drop();
    }
  });
});

describe('npm run cli -- audit verify', () => {
  const savedEnv = { ...process.env };
  let dataDir: string;
  let orgId: string;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-audit-cli-'));
    const db = await openPglite({ dataDir });
    await migrate(db);
    orgId = await seedChain(db, 4);
    await db.close();
    process.env.DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
  });
  afterAll(() => {
    process.env = savedEnv;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports OK with the count of an intact chain', async () => {
    const result = await cli('audit', 'verify', '--org', orgId);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`OK ${orgId}: 4 entries`);
    const json = await cli('audit', 'verify', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, orgs: [{ orgId, entries: 4 }] });
  });

  it('refuses an --org that is no organisation id with a usage error (exit 2)', async () => {
    const result = await cli('audit', 'verify', '--org', 'acme', '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.out).error.code).toBe('USAGE');
  });

  it("records an operator's settings change with the value before and after, and the chain still holds", async () => {
    const set = await cli('org', 'settings', '--org', orgId, '--set', 'defaultCountry', '--value', 'GB');
    expect(set.code, set.err).toBe(0);
    const cleared = await cli('org', 'settings', '--org', orgId, '--clear', 'defaultCountry');
    expect(cleared.code, cleared.err).toBe(0);
    const db = await openPglite({ dataDir });
    try {
      const rows = await db.query<{
        seq: number;
        actor: string;
        target_id: string;
        before: unknown;
        after: unknown;
      }>(
        `SELECT seq, actor, target_id, before, after FROM audit_log WHERE org_id = $1 AND action = 'settings.changed' AND target_type = 'org_setting' ORDER BY seq`,
        [orgId],
      );
      expect(rows).toEqual([
        {
          seq: 5,
          actor: 'cli',
          target_id: 'defaultCountry',
          before: { defaultCountry: null },
          after: { defaultCountry: 'GB' },
        },
        {
          seq: 6,
          actor: 'cli',
          target_id: 'defaultCountry',
          before: { defaultCountry: 'GB' },
          after: { defaultCountry: null },
        },
      ]);
    } finally {
      await db.close();
    }
    const verified = await cli('audit', 'verify', '--org', orgId);
    expect(verified.out).toContain(`OK ${orgId}: 6 entries`);
  });

  it('exits 1 naming the first bad entry of a tampered chain', async () => {
    const db = await openPglite({ dataDir });
    await tamper(db, `UPDATE audit_log SET action = 'auth.sign_in' WHERE org_id = $1 AND seq = 2`, [orgId]);
    await tamper(db, 'DELETE FROM audit_log WHERE org_id = $1 AND seq = 3', [orgId]);
    await db.close();
    const result = await cli('audit', 'verify', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out).error).toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      message: `organisation ${orgId}: entry 2 does not match its hash (edited)`,
    });
  });
});
