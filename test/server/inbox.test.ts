import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOX_COMMANDS } from '../../server/cli/inbox.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// The inbox (issue #19): replies routed to the rep who texted the customer (else the number's
// default assignee, else the unassigned queue), unread per user until the thread is shown, and
// routing by hand for managers, audited.
postgresSkipNote('inbox');

interface InboxRow {
  conversationId: string;
  contactPhone: string;
  contact: { name: string | null } | null;
  lastMessage: { direction: string; body: string } | null;
  consent: string;
  assignee: { userId: string; name: string | null } | null;
  unread: boolean;
}
interface InboxPage {
  rows: InboxRow[];
  unreadCount: number;
  nextCursor: string | null;
}
type Auth = { authorization: string };

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let rep: { userId: string; auth: Auth };
  let rep2: { userId: string; auth: Auth };
  let manager: { userId: string; auth: Auth };
  let outsider: { userId: string; auth: Auth };
  let next = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const user = (email: string, role: string, orgId = org.orgId) =>
      signedInUser(relay.app, relay.db, { orgId, email, role, now: relay.clock() });
    rep = await user('rita@acme.example', 'rep');
    rep2 = await user('ron@acme.example', 'rep');
    manager = await user('mia@acme.example', 'manager');
    outsider = await user('olga@other.example', 'manager', other.orgId);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  /** A customer of their own, opted in. */
  async function customer(): Promise<string> {
    next += 1;
    const phone = `+120255502${String(next).padStart(2, '0')}`;
    await optIn(relay.app, org, phone);
    return phone;
  }
  async function textAs(auth: Auth, to: string, body: string): Promise<void> {
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to, body },
    });
    expect(sent.statusCode, sent.body).toBe(202);
  }
  const reply = (phone: string, text: string) =>
    relay.sandbox.textFromHandset({ handset: phone, service: org.sender, text });
  async function inbox(auth: Auth, query = ''): Promise<InboxPage> {
    const answer = await relay.app.inject({ method: 'GET', url: `/v1/inbox${query}`, headers: auth });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json() as InboxPage;
  }
  const rowOf = (page: InboxPage, phone: string) => page.rows.find((r) => r.contactPhone === phone);
  const post = (auth: Auth, url: string, payload?: Record<string, unknown>) =>
    relay.app.inject(
      payload === undefined
        ? { method: 'POST', url, headers: auth }
        : { method: 'POST', url, headers: auth, payload },
    );

  it('routes a reply to the rep who texted the customer, unread until the thread is shown', async () => {
    const phone = await customer();
    await textAs(rep.auth, phone, 'Your boiler service is booked for Friday.');
    await reply(phone, 'Thanks, see you then');
    const page = await inbox(rep.auth);
    const row = rowOf(page, phone);
    expect(row).toMatchObject({
      unread: true,
      consent: 'opted_in',
      assignee: { userId: rep.userId },
      lastMessage: { direction: 'inbound', body: 'Thanks, see you then' },
    });
    expect(page.rows[0]?.contactPhone).toBe(phone);
    expect(page.unreadCount).toBe(1);
    // Nobody else has it unread, and another rep never sees it.
    expect(rowOf(await inbox(rep2.auth), phone)).toBeUndefined();
    const [event] = await relay.db.query<{ payload: { unreadFor: string[]; assignee: { userId: string } } }>(
      `SELECT payload FROM events WHERE type = 'inbox.updated' AND conversation_id = $1 ORDER BY id DESC LIMIT 1`,
      [row?.conversationId],
    );
    expect(event?.payload).toMatchObject({ unreadFor: [rep.userId], assignee: { userId: rep.userId } });

    const read = await post(rep.auth, `/v1/conversations/${row?.conversationId}/read`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ unread: false, assignee: { userId: rep.userId } });
    const after = await inbox(rep.auth);
    expect(rowOf(after, phone)?.unread).toBe(false);
    expect(after.unreadCount).toBe(0);

    const unread = await post(rep.auth, `/v1/conversations/${row?.conversationId}/unread`);
    expect(unread.json()).toMatchObject({ unread: true });
    expect((await inbox(rep.auth)).unreadCount).toBe(1);
    await post(rep.auth, `/v1/conversations/${row?.conversationId}/read`);
  });

  it('puts a first text from a stranger in the unassigned queue, which a rep may not list', async () => {
    const stranger = '+12025550299';
    await reply(stranger, 'Hi, do you fix water heaters?');
    const queue = await inbox(manager.auth, '?filter=unassigned');
    expect(rowOf(queue, stranger)).toMatchObject({ assignee: null, unread: false, consent: 'unknown' });
    const refused = await relay.app.inject({
      method: 'GET',
      url: '/v1/inbox?filter=unassigned',
      headers: rep.auth,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FILTER_NOT_ALLOWED');
    expect(rowOf(await inbox(rep.auth), stranger)).toBeUndefined();
  });

  it('lets a manager route a conversation by hand: the rep sees it unread, and it is audited', async () => {
    const stranger = '+12025550298';
    await reply(stranger, 'Can someone call me back?');
    const id = rowOf(await inbox(manager.auth, '?filter=unassigned'), stranger)?.conversationId;
    expect(id).toBeDefined();
    // A rep may not route; nor may anyone route to a user of another org, or another org's conversation.
    expect((await post(rep.auth, `/v1/conversations/${id}/assign`, { userId: rep.userId })).statusCode).toBe(
      403,
    );
    const foreignUser = await post(manager.auth, `/v1/conversations/${id}/assign`, {
      userId: outsider.userId,
    });
    expect(foreignUser.statusCode).toBe(422);
    expect(foreignUser.json().error.code).toBe('ASSIGNEE_NOT_FOUND');
    const auditor = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'ada.audit@acme.example',
      role: 'auditor',
      now: relay.clock(),
    });
    const cannotText = await post(manager.auth, `/v1/conversations/${id}/assign`, { userId: auditor.userId });
    expect(cannotText.statusCode).toBe(422);
    expect(cannotText.json().error.code).toBe('ASSIGNEE_CANNOT_TEXT');
    const foreignConversation = await post(outsider.auth, `/v1/conversations/${id}/assign`, { userId: null });
    expect(foreignConversation.statusCode).toBe(404);

    const assigned = await post(manager.auth, `/v1/conversations/${id}/assign`, { userId: rep2.userId });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json()).toMatchObject({ assignee: { userId: rep2.userId, name: 'ron@acme.example' } });
    const mine = await inbox(rep2.auth);
    expect(rowOf(mine, stranger)).toMatchObject({ unread: true });
    expect(rowOf(await inbox(manager.auth, '?filter=unassigned'), stranger)).toBeUndefined();
    const [audit] = await relay.db.query<{ actor: string; before: unknown; after: unknown }>(
      `SELECT actor, before, after FROM audit_log WHERE org_id = $1 AND action = 'conversation.assigned'
        AND target_id = $2`,
      [org.orgId, id],
    );
    expect(audit).toMatchObject({
      actor: `user:${manager.userId}`,
      before: { assignee: null },
      after: { assignee: rep2.userId },
    });

    // The rep's next reply goes to rep2, who now owns it; deactivating rep2 returns it to the queue.
    const deactivated = await relay.app.inject({
      method: 'POST',
      url: `/v1/users/${rep2.userId}/deactivate`,
      headers: org.auth,
    });
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(rowOf(await inbox(manager.auth, '?filter=unassigned'), stranger)).toMatchObject({
      assignee: null,
    });
  });

  /** `npm run cli -- number route …`, run on the relay's database. */
  async function route(flags: Record<string, string>) {
    const command = INBOX_COMMANDS['number route'];
    if (command === undefined || command.needsDatabase === false) throw new Error('no number route command');
    const input = (async function* (): AsyncGenerator<string> {})();
    const io = { input, out: () => undefined, err: () => undefined, config: relay.config };
    return command.run(relay.db, { org: org.orgId, number: org.sender, ...flags }, io);
  }

  it('sends a first reply to the number’s default assignee when no rep texted the customer', async () => {
    await expect(route({ email: 'nobody@acme.example' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await expect(route({ email: 'mia@acme.example', number: '+12025550101' })).rejects.toMatchObject({
      code: 'UNKNOWN_SENDER_NUMBER',
    });
    expect((await route({ email: 'MIA@acme.example' })).json).toEqual({
      number: org.sender,
      defaultAssignee: 'mia@acme.example',
    });
    try {
      const stranger = '+12025550297';
      await reply(stranger, 'Quote for a new boiler please');
      expect(rowOf(await inbox(manager.auth), stranger)).toMatchObject({
        unread: true,
        assignee: { userId: manager.userId },
      });
    } finally {
      await relay.db.query('UPDATE sender_numbers SET default_assignee_user_id = NULL WHERE org_id = $1', [
        org.orgId,
      ]);
    }
  });

  it('pages through unread then the rest without repeating a conversation, and searches', async () => {
    const phones = [await customer(), await customer(), await customer()];
    for (const phone of phones) await textAs(rep.auth, phone, `Hello ${phone}`);
    await reply(phones[1] as string, 'Reply on the second');
    const seen: string[] = [];
    let cursor: string | null = null;
    let firstPage = true;
    do {
      const page: InboxPage = await inbox(rep.auth, `?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`);
      if (firstPage) expect(page.rows[0]?.contactPhone).toBe(phones[1]);
      firstPage = false;
      seen.push(...page.rows.map((r) => r.conversationId));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 50);
    expect(new Set(seen).size).toBe(seen.length);
    const all = await inbox(rep.auth, '?limit=100');
    expect(seen).toEqual(all.rows.map((r) => r.conversationId));

    const digits = (phones[2] as string).slice(-7);
    const found = await inbox(manager.auth, `?filter=all&q=${digits}`);
    expect(found.rows.map((r) => r.contactPhone)).toEqual([phones[2]]);
    const bad = await relay.app.inject({
      method: 'GET',
      url: '/v1/inbox?cursor=mine.nope',
      headers: rep.auth,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_CURSOR');
  });

  it('never lets a rep touch or find a conversation that is not theirs, nor search numbers it may not see', async () => {
    const phone = await customer();
    await textAs(rep.auth, phone, 'Only for Rita');
    await reply(phone, 'Hi Rita');
    const id = rowOf(await inbox(rep.auth), phone)?.conversationId;
    const colleague = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rosa@acme.example',
      role: 'rep',
      now: relay.clock(),
    });
    for (const action of ['read', 'unread']) {
      const refused = await post(colleague.auth, `/v1/conversations/${id}/${action}`);
      expect(refused.statusCode).toBe(404);
      expect(refused.json().error.code).toBe('CONVERSATION_NOT_FOUND');
    }
    expect(rowOf(await inbox(rep.auth), phone)?.unread).toBe(true);
    // A role without pii.view searches names only: digits find nothing, so no number is confirmed.
    await relay.app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: org.auth,
      payload: { name: 'masked_rep', permissions: ['conversations.view', 'messages.send'] },
    });
    const masked = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'max@acme.example',
      role: 'masked_rep',
      now: relay.clock(),
    });
    await textAs(masked.auth, phone, 'Hello from Max');
    const mine = await inbox(masked.auth);
    expect(rowOf(mine, phone)).toBeUndefined();
    expect(mine.rows.map((r) => r.contactPhone)).toContainEqual(expect.stringMatching(/•/));
    expect((await inbox(masked.auth, `?q=${phone.slice(-7)}`)).rows).toEqual([]);
  });

  it('tells an API key that the inbox of "mine" needs a person', async () => {
    const answer = await relay.app.inject({ method: 'GET', url: '/v1/inbox', headers: org.auth });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.code).toBe('USER_REQUIRED');
    expect((await inbox(org.auth, '?filter=all')).unreadCount).toBe(0);
  });
});
