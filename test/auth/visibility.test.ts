import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../server/auth/sessions.ts';
import { maskPhone } from '../../server/phone.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  daytimeClock,
  eventually,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

/** Own versus all conversations, and phone numbers masked for principals without pii.view. */

const CUSTOMER_2 = '+12025550144';
const CUSTOMER_3 = '+12025550145';
const clock = daytimeClock();
const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
let baseUrl: string;

async function userWithSession(email: string, role: string) {
  const userId = randomUUID();
  await db.query('INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, $3, $4)', [
    userId,
    org.orgId,
    email,
    role,
  ]);
  const session = await createSession(db, { orgId: org.orgId, userId, stage: 'full', now: clock() });
  return { userId, auth: { authorization: `Bearer ${session.accessToken}` } };
}

async function send(auth: Record<string, string>, to: string, body: string) {
  const response = await relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...auth, 'idempotency-key': idemKey() },
    payload: { from: org.sender, to, body },
  });
  expect(response.statusCode, response.body).toBe(202);
  return (response.json() as { message: { id: string; conversationId: string } }).message;
}

const get = (auth: Record<string, string>, url: string) =>
  relay.app.inject({ method: 'GET', url, headers: auth });

let rep1: Awaited<ReturnType<typeof userWithSession>>;
let rep2: Awaited<ReturnType<typeof userWithSession>>;
let auditor: Awaited<ReturnType<typeof userWithSession>>;
let mine: { id: string; conversationId: string };
let theirs: { id: string; conversationId: string };

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
  for (const phone of [CUSTOMER, CUSTOMER_2, CUSTOMER_3]) await optIn(relay.app, org, phone);
  rep1 = await userWithSession('rep1@example.com', 'rep');
  rep2 = await userWithSession('rep2@example.com', 'rep');
  auditor = await userWithSession('auditor@example.com', 'auditor');
  mine = await send(rep1.auth, CUSTOMER, 'Hello from rep one');
  theirs = await send(rep2.auth, CUSTOMER_2, 'Hello from rep two');
  baseUrl = await relay.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('own versus all conversations', () => {
  it("shows a rep their own thread and not a colleague's", async () => {
    const list = await get(rep1.auth, '/v1/conversations');
    expect(list.statusCode, list.body).toBe(200);
    const ids = (list.json() as { conversations: { id: string }[] }).conversations.map((c) => c.id);
    expect(ids).toEqual([mine.conversationId]);

    expect((await get(rep1.auth, `/v1/conversations/${mine.conversationId}/messages`)).statusCode).toBe(200);
    const hidden = await get(rep1.auth, `/v1/conversations/${theirs.conversationId}/messages`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toMatchObject({ error: { code: 'CONVERSATION_NOT_FOUND' } });

    expect((await get(rep1.auth, `/v1/messages/${mine.id}`)).statusCode).toBe(200);
    const hiddenMessage = await get(rep1.auth, `/v1/messages/${theirs.id}`);
    expect(hiddenMessage.statusCode).toBe(404);
    expect(hiddenMessage.json()).toMatchObject({ error: { code: 'MESSAGE_NOT_FOUND' } });
  });

  it('shows every conversation to conversations.view_all and to an API key bound to no user', async () => {
    for (const auth of [auditor.auth, org.auth]) {
      const list = await get(auth, '/v1/conversations');
      const ids = (list.json() as { conversations: { id: string }[] }).conversations.map((c) => c.id);
      expect(ids.sort()).toEqual([mine.conversationId, theirs.conversationId].sort());
      expect((await get(auth, `/v1/messages/${theirs.id}`)).statusCode).toBe(200);
    }
  });

  it("streams a rep's own events (also of a conversation it starts meanwhile) and not a colleague's", async () => {
    const abort = new AbortController();
    const response = await fetch(`${baseUrl}/v1/events`, { headers: rep1.auth, signal: abort.signal });
    expect(response.status).toBe(200);
    let text = '';
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    const decoder = new TextDecoder();
    const pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
        }
      } catch {
        // Aborted.
      }
    })();
    try {
      await eventually(async () => text.includes(': connected'));
      const colleague = await send(rep2.auth, CUSTOMER_2, 'Colleague again');
      const own = await send(rep1.auth, CUSTOMER, 'Rep one again');
      const started = await send(rep1.auth, CUSTOMER_3, 'Rep one starts a thread');
      await eventually(async () => text.includes(own.id) && text.includes(started.id));
      await new Promise((r) => setTimeout(r, 200));
      expect(text).not.toContain(colleague.id);
      expect(text).not.toContain(theirs.conversationId);
    } finally {
      abort.abort();
      await pump;
    }
  });
});

describe('phone numbers masked without pii.view', () => {
  it('masks conversations and messages for an auditor, and shows them to a rep', async () => {
    const list = await get(auditor.auth, '/v1/conversations');
    const phones = (list.json() as { conversations: { contactPhone: string }[] }).conversations.map(
      (c) => c.contactPhone,
    );
    expect(phones).toContain(maskPhone(CUSTOMER));
    expect(list.body).not.toContain(CUSTOMER);
    const messages = await get(auditor.auth, `/v1/conversations/${mine.conversationId}/messages`);
    expect(messages.body).not.toContain(CUSTOMER);
    expect(messages.body).toContain(maskPhone(CUSTOMER));
    const message = await get(auditor.auth, `/v1/messages/${mine.id}`);
    expect(message.json()).toMatchObject({ message: { to: maskPhone(CUSTOMER) } });
    const consent = await get(auditor.auth, `/v1/consent/${encodeURIComponent(CUSTOMER)}`);
    expect(consent.json()).toMatchObject({ phone: maskPhone(CUSTOMER) });

    const repView = await get(rep1.auth, `/v1/messages/${mine.id}`);
    expect(repView.json()).toMatchObject({ message: { to: CUSTOMER } });
  });

  it('reveals one conversation number on request and records the reveal', async () => {
    const revealed = await relay.app.inject({
      method: 'POST',
      url: '/v1/reveal',
      headers: auditor.auth,
      payload: { conversationId: mine.conversationId },
    });
    expect(revealed.statusCode, revealed.body).toBe(200);
    expect(revealed.json()).toEqual({ conversationId: mine.conversationId, contactPhone: CUSTOMER });
    const events = await db.query<{ actor: string; user_id: string; detail: { conversationId: string } }>(
      `SELECT actor, user_id, detail FROM auth_events WHERE kind = 'reveal'`,
    );
    expect(events).toEqual([
      {
        actor: `user:${auditor.userId}`,
        user_id: auditor.userId,
        detail: { conversationId: mine.conversationId },
      },
    ]);
  });

  it('refuses to reveal a conversation the principal cannot see (404, nothing recorded)', async () => {
    // A rep who may reveal but not see numbers, confined to the conversations they sent in.
    await db.query('INSERT INTO roles (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)', [
      randomUUID(),
      org.orgId,
      'rep_reveal',
      ['conversations.view', 'messages.send', 'pii.reveal'],
    ]);
    const masked = await userWithSession('masked@example.com', 'rep_reveal');
    const refused = await relay.app.inject({
      method: 'POST',
      url: '/v1/reveal',
      headers: masked.auth,
      payload: { conversationId: theirs.conversationId },
    });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ error: { code: 'CONVERSATION_NOT_FOUND' } });
    const events = await db.query(`SELECT 1 FROM auth_events WHERE kind = 'reveal' AND user_id = $1`, [
      masked.userId,
    ]);
    expect(events).toEqual([]);
  });
});
