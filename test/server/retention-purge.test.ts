import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { placeHold, releaseHold } from '../../server/retention/legal-holds.ts';
import { runRetention } from '../../server/retention/purge.ts';
import { RetentionWorker } from '../../server/retention/retention-worker.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { daytimeClock, seedOrg, type TestOrg } from '../helpers/relay.ts';

postgresSkipNote('retention purge');

const DAY = 86_400_000;

let senders = 0;
/** An org with a sender number of its own (a number belongs to one org). */
function newOrg(db: Database, name: string): Promise<TestOrg> {
  senders += 1;
  return seedOrg(db, { name, sender: `+1312555${String(1000 + senders)}` });
}

/** A conversation of the org with the phone; returns its id. */
async function conversation(db: Database, org: TestOrg, phone: string, lastAt: Date): Promise<string> {
  const [sender] = await db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE org_id = $1', [
    org.orgId,
  ]);
  const id = randomUUID();
  await db.query(
    `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, last_message_at) VALUES ($1, $2, $3, $4, $5)`,
    [id, org.orgId, sender?.id, phoneToken(db, phone), lastAt],
  );
  return id;
}

/** A finished outbound text with its status history, outbox job and live event, created at `at`. */
async function message(
  db: Database,
  org: TestOrg,
  conversationId: string,
  phone: string,
  at: Date,
  options: { body?: string; status?: string } = {},
): Promise<string> {
  const id = randomUUID();
  const status = options.status ?? 'delivered';
  await db.query(
    `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments, encoding,
                           created_at, redactions)
     VALUES ($1, $2, $3, 'outbound', $4, $5, $6, $7, 1, 'GSM-7', $8, '[]'::jsonb)`,
    [
      id,
      org.orgId,
      conversationId,
      org.sender,
      phoneToken(db, phone),
      options.body ?? `secret body ${id}`,
      status,
      at,
    ],
  );
  await db.query(`INSERT INTO message_status_events (message_id, status) VALUES ($1, 'queued'), ($1, $2)`, [
    id,
    status,
  ]);
  await db.query(`INSERT INTO outbox_jobs (message_id, org_id, state) VALUES ($1, $2, $3)`, [
    id,
    org.orgId,
    status === 'queued' ? 'queued' : 'done',
  ]);
  await db.query(
    `INSERT INTO events (org_id, type, conversation_id, payload)
     SELECT org_id, 'message.created', conversation_id, jsonb_build_object('message', message_dto(m, NULL))
       FROM messages m WHERE id = $1`,
    [id],
  );
  return id;
}

async function bodyOf(db: Database, id: string): Promise<string | null> {
  const [row] = await db.query<{ body: string }>('SELECT body FROM messages WHERE id = $1', [id]);
  return row?.body ?? null;
}

async function counts(
  db: Database,
  messageId: string,
): Promise<{ status: number; outbox: number; events: number }> {
  const [row] = await db.query<{ status: number; outbox: number; events: number }>(
    `SELECT (SELECT count(*)::int FROM message_status_events WHERE message_id = $1) AS status,
            (SELECT count(*)::int FROM outbox_jobs WHERE message_id = $1) AS outbox,
            (SELECT count(*)::int FROM events WHERE payload->'message'->>'id' = $1::text) AS events`,
    [messageId],
  );
  return row ?? { status: -1, outbox: -1, events: -1 };
}

async function policy(db: Database, org: TestOrg, bodyDays: number | null, metadataDays: number | null) {
  const by = { actor: 'test', at: new Date(0) };
  await db.transaction(async (tx) => {
    await setOrgSetting(tx, org.orgId, 'retention.metadataDays', null, by);
    await setOrgSetting(tx, org.orgId, 'retention.messageBodyDays', null, by);
    if (metadataDays !== null)
      await setOrgSetting(tx, org.orgId, 'retention.metadataDays', String(metadataDays), by);
    if (bodyDays !== null)
      await setOrgSetting(tx, org.orgId, 'retention.messageBodyDays', String(bodyDays), by);
  });
}

describe.each(ENGINES)('retention purge on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  /** The relay's clock, pinned: every age below is measured from it. */
  const now = new Date(daytimeClock()().getTime());
  const ago = (days: number) => new Date(now.getTime() - days * DAY);
  const run = (org: TestOrg, dryRun = false, batchSize?: number) =>
    runRetention(db, { orgId: org.orgId, now, dryRun, actor: 'test', batchSize });

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
  });
  afterAll(async () => {
    await drop();
  });

  it('blanks bodies after N days and deletes messages, their history and empty conversations after M days', async () => {
    const org = await newOrg(db, 'Ages');
    await policy(db, org, 30, 90);
    const phone = '+12025550161';
    const conv = await conversation(db, org, phone, ago(5));
    const fresh = await message(db, org, conv, phone, ago(5));
    const middle = await message(db, org, conv, phone, ago(40));
    const scheduled = await message(db, org, conv, phone, ago(40), { status: 'queued' });
    const old = await message(db, org, conv, phone, ago(100));
    const gone = await conversation(db, org, '+12025550162', ago(120));
    const inGone = await message(db, org, gone, '+12025550162', ago(120));

    const report = await run(org, false, 1);

    expect(report).toMatchObject({
      bodiesPurged: 1,
      messagesDeleted: 2,
      conversationsDeleted: 1,
      dryRun: false,
    });
    expect(report.statusEventsDeleted).toBe(4);
    expect(report.outboxJobsDeleted).toBe(2);
    expect(report.liveEventsDeleted).toBe(2);
    expect(report.batches).toBeGreaterThan(3); // batch size 1: one row per transaction
    expect(await bodyOf(db, fresh)).toMatch(/^secret body/);
    expect(await bodyOf(db, middle)).toBe('');
    expect(await bodyOf(db, scheduled)).toMatch(/^secret body/); // not sent yet: kept whole
    expect(await bodyOf(db, old)).toBeNull();
    expect(await bodyOf(db, inGone)).toBeNull();
    expect(await counts(db, old)).toEqual({ status: 0, outbox: 0, events: 0 });
    expect(await counts(db, middle)).toEqual({ status: 2, outbox: 1, events: 1 });
    const [event] = await db.query<{ body: string }>(
      `SELECT payload->'message'->>'body' AS body FROM events WHERE payload->'message'->>'id' = $1`,
      [middle],
    );
    expect(event?.body).toBe('');
    expect(await db.query('SELECT 1 FROM conversations WHERE id = $1', [gone])).toHaveLength(0);
    expect(await db.query('SELECT 1 FROM conversations WHERE id = $1', [conv])).toHaveLength(1);

    const [audit] = await db.query<{
      actor: string;
      detail: { bodiesPurged: number; messagesDeleted: number };
    }>(`SELECT actor, detail FROM audit_log WHERE org_id = $1 AND action = 'retention.run'`, [org.orgId]);
    expect(audit?.actor).toBe('test');
    expect(audit?.detail).toMatchObject({ bodiesPurged: 1, messagesDeleted: 2 });

    // A second run finds nothing left to do.
    expect(await run(org)).toMatchObject({ bodiesPurged: 0, messagesDeleted: 0, conversationsDeleted: 0 });
  });

  it('a dry run reports what a real run then removes, and changes nothing', async () => {
    const org = await newOrg(db, 'Dry');
    await policy(db, org, 30, 90);
    const phone = '+12025550163';
    const conv = await conversation(db, org, phone, ago(100));
    const middle = await message(db, org, conv, phone, ago(40));
    const old = await message(db, org, conv, phone, ago(100));
    const empty = await conversation(db, org, '+12025550164', ago(200));
    await message(db, org, empty, '+12025550164', ago(200));
    const snapshot = () =>
      db.query(
        `SELECT m.id, m.body, m.body_purged_at,
                (SELECT count(*)::int FROM message_status_events s WHERE s.message_id = m.id) AS history
           FROM messages m WHERE m.org_id = $1 ORDER BY m.id`,
        [org.orgId],
      );
    const before = await snapshot();
    const auditBefore = await db.query('SELECT seq FROM audit_log WHERE org_id = $1', [org.orgId]);

    const dry = await run(org, true);

    expect(dry).toMatchObject({ dryRun: true, bodiesPurged: 1, messagesDeleted: 2, conversationsDeleted: 1 });
    expect(dry.statusEventsDeleted).toBe(4);
    expect(dry.outboxJobsDeleted).toBe(2);
    expect(await snapshot()).toEqual(before);
    expect(await db.query('SELECT seq FROM audit_log WHERE org_id = $1', [org.orgId])).toEqual(auditBefore);
    expect(await bodyOf(db, middle)).toMatch(/^secret body/);
    expect(await bodyOf(db, old)).toMatch(/^secret body/);

    const real = await run(org);
    expect(real).toMatchObject({
      bodiesPurged: dry.bodiesPurged,
      messagesDeleted: dry.messagesDeleted,
      statusEventsDeleted: dry.statusEventsDeleted,
      outboxJobsDeleted: dry.outboxJobsDeleted,
      conversationsDeleted: dry.conversationsDeleted,
    });
  });

  it("a legal hold keeps a contact's and a conversation's messages whole until it is released", async () => {
    const org = await newOrg(db, 'Held');
    await policy(db, org, 30, 90);
    const heldPhone = '+12025550165';
    const phoneConv = await conversation(db, org, heldPhone, ago(100));
    const byPhone = await message(db, org, phoneConv, heldPhone, ago(100));
    const byPhoneBody = await message(db, org, phoneConv, heldPhone, ago(40));
    const otherPhone = '+12025550166';
    const heldConv = await conversation(db, org, otherPhone, ago(100));
    const byConv = await message(db, org, heldConv, otherPhone, ago(100));
    const free = await conversation(db, org, '+12025550167', ago(10));
    const unheld = await message(db, org, free, '+12025550167', ago(100));
    const phoneHold = await placeHold(db, {
      orgId: org.orgId,
      target: { type: 'phone', phone: heldPhone },
      reason: 'Matter 2026-114',
      actor: 'test',
      at: now,
    });
    await placeHold(db, {
      orgId: org.orgId,
      target: { type: 'conversation', conversationId: heldConv },
      reason: 'Subpoena',
      actor: 'test',
      at: now,
    });

    const report = await run(org);

    expect(report).toMatchObject({ messagesDeleted: 1, bodiesPurged: 0, heldSkipped: 3 });
    expect(await bodyOf(db, unheld)).toBeNull();
    expect(await bodyOf(db, byPhone)).toMatch(/^secret body/);
    expect(await bodyOf(db, byPhoneBody)).toMatch(/^secret body/);
    expect(await bodyOf(db, byConv)).toMatch(/^secret body/);
    expect(await counts(db, byPhone)).toEqual({ status: 2, outbox: 1, events: 1 });

    await releaseHold(db, { orgId: org.orgId, holdId: phoneHold.id, actor: 'test', at: now });
    const after = await run(org);

    expect(after).toMatchObject({ messagesDeleted: 1, bodiesPurged: 1, heldSkipped: 1 });
    expect(await bodyOf(db, byPhone)).toBeNull();
    expect(await bodyOf(db, byPhoneBody)).toBe('');
    expect(await bodyOf(db, byConv)).toMatch(/^secret body/);
  });

  it('never purges consent records nor the messages they cite', async () => {
    const org = await newOrg(db, 'Consent');
    await policy(db, org, 1, 1);
    const phone = '+12025550168';
    const conv = await conversation(db, org, phone, ago(3000));
    const stop = await message(db, org, conv, phone, ago(3000), { body: 'STOP', status: 'received' });
    await db.query(
      `INSERT INTO consent_events (org_id, phone_e164, kind, source, evidence, message_id, actor, occurred_at)
       VALUES ($1, $2, 'opt_out', 'sms_keyword', 'STOP', $3, 'system', $4)`,
      [org.orgId, phoneToken(db, phone), stop, ago(3000)],
    );
    const ledger = () => db.query('SELECT * FROM consent_events WHERE org_id = $1 ORDER BY id', [org.orgId]);
    const before = await ledger();

    const report = await run(org);

    expect(report).toMatchObject({ messagesDeleted: 0, bodiesPurged: 0, consentEvidenceKept: 1 });
    expect(await ledger()).toEqual(before);
    expect(await bodyOf(db, stop)).toBe('STOP');
  });

  it("leaves another organisation's data alone", async () => {
    const a = await newOrg(db, 'A');
    const b = await newOrg(db, 'B');
    await policy(db, a, 1, 2);
    await policy(db, b, 1, 2);
    const convA = await conversation(db, a, '+12025550169', ago(10));
    const convB = await conversation(db, b, '+12025550169', ago(10));
    const inA = await message(db, a, convA, '+12025550169', ago(10));
    const inB = await message(db, b, convB, '+12025550169', ago(10));

    expect(await run(a)).toMatchObject({ messagesDeleted: 1 });
    expect(await bodyOf(db, inA)).toBeNull();
    expect(await bodyOf(db, inB)).toMatch(/^secret body/);
    expect(await counts(db, inB)).toEqual({ status: 2, outbox: 1, events: 1 });
  });

  it('keeps messages append-only outside the one-way body purge', async () => {
    const org = await newOrg(db, 'Guard');
    const phone = '+12025550170';
    const conv = await conversation(db, org, phone, ago(1));
    const id = await message(db, org, conv, phone, ago(1));
    await expect(db.query(`UPDATE messages SET body = 'rewritten' WHERE id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query(`UPDATE messages SET body = '' WHERE id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('DELETE FROM message_status_events WHERE message_id = $1', [id])).rejects.toThrow(
      /append-only/,
    );
    await db.query(`UPDATE messages SET body = '', redactions = NULL, body_purged_at = $2 WHERE id = $1`, [
      id,
      now,
    ]);
    await expect(
      db.query(`UPDATE messages SET body = 'back again', body_purged_at = NULL WHERE id = $1`, [id]),
    ).rejects.toThrow(/append-only/);
    expect(await bodyOf(db, id)).toBe('');
  });

  it('runs each org with a policy once per pass, and a second relay waits for the lease', async () => {
    const org = await newOrg(db, 'Worker');
    await policy(db, org, 1, 2);
    const conv = await conversation(db, org, '+12025550171', ago(10));
    const id = await message(db, org, conv, '+12025550171', ago(10));
    const options = { db, clock: () => now, intervalMs: 3_600_000, log: () => undefined };
    const first = new RetentionWorker(options);
    const second = new RetentionWorker(options);
    await db.query(
      `UPDATE retention_lease SET owner = $1, lease_until = now() + interval '1 minute' WHERE id = 1`,
      [first.workerId],
    );
    expect(await second.runOnce()).toEqual([]);
    expect(await bodyOf(db, id)).not.toBeNull();
    const ran = await first.runOnce();
    expect(ran).toContain(org.orgId);
    expect(await bodyOf(db, id)).toBeNull();
    const [lease] = await db.query<{ owner: string | null }>('SELECT owner FROM retention_lease');
    expect(lease?.owner).toBeNull();
  });
});
