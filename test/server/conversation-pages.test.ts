import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { newId } from '../../server/ids.ts';
import { addSenderNumber } from '../../server/organisations/org-admin.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote, tokenizePhones } from '../helpers/db.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

/**
 * Issue #20 (2): GET /v1/conversations pages with a keyset cursor in every filter. What the
 * contract promises a walk through the pages: no conversation twice, and every conversation whose
 * activity did not change during the walk exactly once, in list order. A conversation that gets a
 * text mid-walk moves to the top of the list (newest activity first): a walk already past the top
 * does not meet it again, and a fresh first page (or the live events) shows it.
 */

postgresSkipNote('conversation pages');

type Auth = { authorization: string };
interface Page {
  conversations: { id: string; contactPhone: string; lastMessageAt: string | null }[];
  nextCursor: string | null;
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const PHONE = (i: number) => `+120255501${10 + i}`;
/** The phone three of the seeded conversations share (one per sender number). */
const SHARED = PHONE(0);

describe.each(ENGINES)('on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let riley: { userId: string; auth: Auth };
  let alex: { userId: string; auth: Auth };
  let contactId: string;

  const get = async (auth: Auth, query: string) =>
    relay.app.inject({ method: 'GET', url: `/v1/conversations${query}`, headers: auth });

  /** Every id of a walk through the pages (from `start`, else the first page), and how many pages. */
  const walk = async (
    auth: Auth,
    query: string,
    options: { start?: string | null; between?: (page: number) => Promise<void> } = {},
  ) => {
    const ids: string[] = [];
    let cursor = options.start ?? null;
    let pages = 0;
    do {
      const response = await get(auth, cursor === null ? query : `${query}&cursor=${cursor}`);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as Page;
      ids.push(...page.conversations.map((c) => c.id));
      cursor = page.nextCursor;
      pages += 1;
      if (options.between !== undefined && cursor !== null) await options.between(pages);
    } while (cursor !== null && pages < 100);
    return { ids, pages };
  };

  /** The org's conversations in list order, straight from the database. */
  const expected = async (orgId: string, where = 'TRUE', params: unknown[] = []) =>
    (
      await db.query<{ id: string }>(
        `SELECT c.id FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id
          WHERE c.org_id = $1 AND ${where} ORDER BY c.last_message_at DESC NULLS LAST, c.id`,
        [orgId, ...params],
      )
    ).map((r) => r.id);

  /** Conversations written straight to the database: ties, never-active ones, a shared phone. */
  async function seedConversations(target: TestOrg, count: number, contact: string | null) {
    const senders = [
      (await db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE org_id = $1', [target.orgId]))[0]
        ?.id ?? '',
    ];
    const prefix = target === org ? '+1303555' : '+1404555';
    for (const n of [1, 2]) {
      senders.push((await addSenderNumber(db, { orgId: target.orgId, e164: `${prefix}011${n}` })).numberId);
    }
    for (let i = 0; i < count; i += 1) {
      // Three share one instant (ties by id), two have no activity yet (they sort last).
      const at = i >= count - 2 ? null : new Date(Date.UTC(2026, 10, 1, 12, 0, i < 3 ? 0 : i));
      await db.query(
        `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id, last_message_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [newId(), target.orgId, senders[i % 3], i < 3 ? SHARED : PHONE(i), i % 2 === 0 ? contact : null, at],
      );
    }
  }

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    org = await seedOrg(db);
    other = await seedOrg(db, { name: 'Other Dental', sender: '+12025550199' });
    const now = relay.clock();
    riley = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'riley@example.com',
      role: 'rep',
      now,
    });
    alex = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'alex@example.com',
      role: 'admin',
      now,
    });
    contactId = newId();
    await db.query(
      `INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id) VALUES ($1, $2, $3, 'sandbox', 'contact', 'c-77')`,
      [contactId, org.orgId, PHONE(4)],
    );
    const otherContact = newId();
    await db.query(
      `INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id) VALUES ($1, $2, $3, 'sandbox', 'contact', 'c-77')`,
      [otherContact, other.orgId, PHONE(4)],
    );
    await seedConversations(org, 23, contactId);
    await seedConversations(other, 9, otherContact);
    await tokenizePhones(db);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('walks the whole list a page at a time, newest activity first, ties by id, never-active last', async () => {
    const all = await expected(org.orgId);
    const { ids, pages } = await walk(org.auth, '?limit=4');
    expect(ids).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 4));
    const last = await get(org.auth, '?limit=100');
    expect((last.json() as Page).nextCursor).toBeNull();
  });

  it('pages by phone and by CRM record, each to its own end', async () => {
    const byPhone = await walk(org.auth, `?phone=${encodeURIComponent(SHARED)}&limit=2`);
    expect(byPhone.ids).toEqual(await expected(org.orgId, 'c.contact_phone = $2', [phoneToken(db, SHARED)]));
    expect(byPhone.ids).toHaveLength(3);
    expect(byPhone.pages).toBe(2);
    const byRecord = await walk(org.auth, '?crm=sandbox&objectType=contact&crmId=c-77&limit=5');
    expect(byRecord.ids).toEqual(await expected(org.orgId, "ct.crm_id = 'c-77'"));
    expect(byRecord.ids).toHaveLength(12);
    expect(byRecord.pages).toBe(3);
  });

  it('never shows another org’s conversations, not even with that org’s cursor', async () => {
    const mineAll = new Set(await expected(org.orgId));
    const theirs = await walk(other.auth, '?limit=3');
    expect(theirs.ids).toEqual(await expected(other.orgId));
    for (const id of theirs.ids) expect(mineAll.has(id)).toBe(false);
    // A cursor is only a position in the list's order: in another org it reads that org's rows.
    const first = (await get(other.auth, '?limit=3')).json() as Page;
    const borrowed = (await walk(org.auth, '?limit=4', { start: first.nextCursor })).ids;
    expect(borrowed.length).toBeGreaterThan(0);
    for (const id of borrowed) expect(mineAll.has(id)).toBe(true);
  });

  it('reads a cursor from another filter as a position within the filter asked for', async () => {
    const all = await expected(org.orgId);
    // 19 rows: the 18 distinct instants and the first of the three tied ones, all on SHARED.
    const unfiltered = (await get(org.auth, '?limit=19')).json() as Page;
    const position = all.indexOf(unfiltered.conversations.at(-1)?.id ?? '');
    const phoneAll = await expected(org.orgId, 'c.contact_phone = $2', [phoneToken(db, SHARED)]);
    const rest = await walk(org.auth, `?phone=${encodeURIComponent(SHARED)}`, {
      start: unfiltered.nextCursor,
    });
    expect(rest.ids).toEqual(phoneAll.filter((id) => all.indexOf(id) > position));
    expect(rest.ids).toHaveLength(2);
  });

  it('keeps its promise when conversations get texts between pages: none twice, the unchanged all once', async () => {
    const before = await expected(org.orgId);
    const seenEarly = before[1] ?? '';
    const notYetSeen = before[10] ?? '';
    const { ids } = await walk(org.auth, '?limit=4', {
      between: async (page) => {
        if (page !== 1) return;
        // Both jump to the top of the list: one already on page 1, one due on page 3.
        await db.query(`UPDATE conversations SET last_message_at = $2 WHERE id = ANY($1::uuid[])`, [
          [seenEarly, notYetSeen],
          new Date(Date.UTC(2026, 10, 2)),
        ]);
      },
    });
    expect(new Set(ids).size).toBe(ids.length);
    const unchanged = before.filter((id) => id !== seenEarly && id !== notYetSeen);
    expect(ids.filter((id) => unchanged.includes(id))).toEqual(unchanged);
    expect(ids.filter((id) => id === seenEarly)).toEqual([seenEarly]);
    const top = (await get(org.auth, '?limit=2')).json() as Page;
    expect(top.conversations.map((c) => c.id).sort()).toEqual([seenEarly, notYetSeen].sort());
  });

  it.each([
    ['a string that is not base64 JSON', 'garbage!!'],
    ['a JSON object', cursorOf({ at: null })],
    ['three parts', cursorOf([null, '00000000-0000-4000-8000-000000000000', 1])],
    ['an id that is not a uuid', cursorOf([null, 'abc'])],
    [
      'a date that does not exist',
      cursorOf(['2026-02-31 00:00:00+00', '00000000-0000-4000-8000-000000000000']),
    ],
    ['a number for the time', cursorOf([1733300000, '00000000-0000-4000-8000-000000000000'])],
  ])('refuses a cursor with %s as 400 INVALID_CURSOR', async (_name, cursor) => {
    const response = await get(org.auth, `?cursor=${encodeURIComponent(cursor)}`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'INVALID_CURSOR' } });
  });

  describe('mine', () => {
    let rileys: string[];
    let alexs: string;

    const send = async (auth: Auth, to: string) => {
      const response = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to, body: 'Your appointment is confirmed.' },
      });
      expect(response.statusCode, response.body).toBe(202);
      return (response.json() as { message: { conversationId: string } }).message.conversationId;
    };

    beforeAll(async () => {
      const phones = [0, 1, 2, 3, 4].map((i) => `+172055501${50 + i}`);
      for (const phone of phones) await optIn(relay.app, org, phone);
      // Sent together: the send batcher may write them in one multi-row statement (its second path).
      rileys = await Promise.all(phones.slice(0, 4).map((phone) => send(riley.auth, phone)));
      alexs = await send(alex.auth, phones[4] ?? '');
      // Alex also answers in one of Riley's threads: it becomes Alex's too, and stays Riley's.
      await send(alex.auth, phones[0] ?? '');
    });

    it('pages through the conversations the user sent in, from either insert path, and no one else’s', async () => {
      const walked = await walk(riley.auth, '?mine=true&limit=3');
      expect(walked.ids.sort()).toEqual([...new Set(rileys)].sort());
      expect(walked.pages).toBe(Math.ceil(new Set(rileys).size / 3));
      const ofAlex = await walk(alex.auth, '?mine=true&limit=1');
      expect(ofAlex.ids.sort()).toEqual([alexs, rileys[0]].sort());
    });

    it('names the reps of a conversation in its inbound text’s event, and moves it up their lists', async () => {
      const reply = await relay.sandbox.textFromHandset({
        handset: '+17205550150',
        service: org.sender,
        text: 'See you then',
      });
      expect(reply.status).toBe(200);
      const stranger = await relay.sandbox.textFromHandset({
        handset: '+17205550159',
        service: org.sender,
        text: 'Who is this?',
      });
      expect(stranger.status).toBe(200);
      const events = await db.query<{ conversation_id: string; participants: string[] }>(
        `SELECT conversation_id, payload->'participants' AS participants FROM events
          WHERE org_id = $1 AND type = 'message.created' AND payload->'message'->>'direction' = 'inbound'
          ORDER BY id`,
        [org.orgId],
      );
      expect(events.map((e) => e.conversation_id)[0]).toBe(rileys[0]);
      expect(events[0]?.participants).toEqual([riley.userId, alex.userId].sort());
      expect(events[1]?.participants).toEqual([]);
      for (const auth of [riley.auth, alex.auth]) {
        const top = (await get(auth, '?mine=true&limit=1')).json() as Page;
        expect(top.conversations.map((c) => c.id)).toEqual([rileys[0]]);
      }
    });

    it('moves a conversation to the top of its reps’ lists when it gets a text', async () => {
      const oldest = (await walk(riley.auth, '?mine=true')).ids.at(-1) ?? '';
      // A day after the relay's now, so newer than every text so far on any date the suite runs.
      const later = new Date(relay.clock().getTime() + 86_400_000);
      await db.query('UPDATE conversations SET last_message_at = $2 WHERE id = $1', [oldest, later]);
      const top = (await get(riley.auth, '?mine=true&limit=1')).json() as Page;
      expect(top.conversations.map((c) => c.id)).toEqual([oldest]);
      expect(top.conversations[0]?.lastMessageAt).toBe(later.toISOString());
    });

    it('gives nothing of another rep’s conversations, even with a cursor taken from that rep’s list', async () => {
      const alexFirst = (await get(alex.auth, '?mine=true&limit=1')).json() as Page;
      const borrowed = await walk(riley.auth, '?mine=true', { start: alexFirst.nextCursor });
      for (const id of borrowed.ids) expect(rileys).toContain(id);
      expect(borrowed.ids).not.toContain(alexs);
    });
  });
});
