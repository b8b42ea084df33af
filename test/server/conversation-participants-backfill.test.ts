import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { migrate } from '../../server/db/migrate.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { newId } from '../../server/ids.ts';
import { seedOrg, testUser } from '../helpers/relay.ts';

/**
 * Issue #20 (2): migration 024 fills conversation_participants from the sends already stored, so
 * "mine" and the inbound events' participants are right for history on an existing installation,
 * not only for texts sent after the upgrade. The database is migrated to just before 024, given
 * history, then taken through 024.
 */

const MIGRATION = '024_conversation_lists';
const NOW = new Date('2026-11-20T17:00:00.000Z');

describe('migration 024 on an installation with history', () => {
  let db: Database;
  let riley: string;
  let alex: string;
  const threads = { shared: newId(), rileyOnly: newId(), nobody: newId() };

  beforeAll(async () => {
    db = await openPglite();
    // Recorded as applied, migrate() stops short of 024; removing the record lets it run.
    await db.query(
      `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [MIGRATION]);
    await migrate(db);
    expect(await db.query(`SELECT to_regclass('conversation_participants') AS t`)).toEqual([{ t: null }]);
    const org = await seedOrg(db);
    riley = await testUser(db, { orgId: org.orgId, email: 'riley@example.com', now: NOW });
    alex = await testUser(db, { orgId: org.orgId, email: 'alex@example.com', now: NOW });
    const [sender] = await db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE org_id = $1', [
      org.orgId,
    ]);
    const at = (minute: number) => new Date(NOW.getTime() + minute * 60_000);
    for (const [i, [id, last]] of [
      [threads.shared, at(30)],
      [threads.rileyOnly, at(20)],
      [threads.nobody, at(10)],
    ].entries()) {
      await db.query(
        `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, last_message_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [id, org.orgId, sender?.id, `+120255501${60 + i}`, last],
      );
    }
    // Riley twice in one thread, Alex once; an API key's send and a customer's text name no user.
    const sends: [string, string | null, 'outbound' | 'inbound'][] = [
      [threads.shared, riley, 'outbound'],
      [threads.shared, riley, 'outbound'],
      [threads.shared, alex, 'outbound'],
      [threads.shared, null, 'inbound'],
      [threads.rileyOnly, riley, 'outbound'],
      [threads.nobody, null, 'outbound'],
    ];
    for (const [conversation, user, direction] of sends) {
      await db.query(
        `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments,
                               encoding, sent_by_user_id, created_at)
         VALUES ($1, $2, $3, $4, '+12025550100', '+12025550160', 'Hello', 'delivered', 1, 'GSM-7', $5, $6)`,
        [newId(), org.orgId, conversation, direction, user, NOW],
      );
    }
    await db.query('DELETE FROM schema_migrations WHERE version = $1', [MIGRATION]);
    expect((await migrate(db)).applied).toEqual([MIGRATION]);
  });
  afterAll(async () => {
    await db.close();
  });

  it('makes each user who sent in a conversation its participant once, with its activity', async () => {
    const rows = await db.query<{ user_id: string; conversation_id: string; last_message_at: Date }>(
      'SELECT user_id, conversation_id, last_message_at FROM conversation_participants ORDER BY last_message_at DESC, user_id',
    );
    const expected = [
      {
        user_id: riley,
        conversation_id: threads.shared,
        last_message_at: new Date(NOW.getTime() + 30 * 60_000),
      },
      {
        user_id: alex,
        conversation_id: threads.shared,
        last_message_at: new Date(NOW.getTime() + 30 * 60_000),
      },
      {
        user_id: riley,
        conversation_id: threads.rileyOnly,
        last_message_at: new Date(NOW.getTime() + 20 * 60_000),
      },
    ].sort(
      (a, b) =>
        b.last_message_at.getTime() - a.last_message_at.getTime() || a.user_id.localeCompare(b.user_id),
    );
    expect(rows).toEqual(expected);
  });

  it('keeps a participant’s activity equal to its conversation’s when the conversation moves', async () => {
    const later = new Date(NOW.getTime() + 90 * 60_000);
    await db.query('UPDATE conversations SET last_message_at = $2 WHERE id = $1', [threads.shared, later]);
    const rows = await db.query<{ last_message_at: Date }>(
      'SELECT last_message_at FROM conversation_participants WHERE conversation_id = $1',
      [threads.shared],
    );
    expect(rows).toEqual([{ last_message_at: later }, { last_message_at: later }]);
  });
});
