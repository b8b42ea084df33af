import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../server/auth/sessions.ts';
import { maskPhone } from '../../server/phone.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

/**
 * Issue #16, item 5: a role sees phone numbers as its permissions allow. pii.view shows them;
 * without it, pii.reveal unmasks one contact's or conversation's number on demand, recorded in the
 * auth log; a role with neither gets the masked number and a 403 when it asks for more.
 */

/** Friday 20 November 2026, 17:00 UTC: noon for the customer in Washington DC. */
const NOW = new Date('2026-11-20T17:00:00.000Z');
/** The sandbox CRM's first demo contact; its phone is CUSTOMER. */
const DANA = { crm: 'sandbox', objectType: 'contact', id: 'c-1001' } as const;

type Auth = { authorization: string };

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
let otherOrg: TestOrg;
/** A conversation of `org` with CUSTOMER, started by the owner key. */
let conversationId = '';
/** Sees numbers (built-in owner, a signed-in person). */
let owner: { userId: string; auth: Auth };
/** Neither pii.view nor pii.reveal: the masked number and nothing more. */
let desk: { userId: string; auth: Auth };
/** No pii.view, but pii.reveal; confined to its own conversations. */
let revealer: { userId: string; auth: Auth };

async function customRole(orgId: string, name: string, permissions: string[]) {
  await db.query('INSERT INTO roles (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)', [
    randomUUID(),
    orgId,
    name,
    permissions,
  ]);
}

async function user(orgId: string, email: string, role: string) {
  const userId = randomUUID();
  await db.query('INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, $3, $4)', [
    userId,
    orgId,
    email,
    role,
  ]);
  const session = await createSession(db, { orgId, userId, stage: 'full', now: NOW });
  return { userId, auth: { authorization: `Bearer ${session.accessToken}` } };
}

const post = (auth: Auth, url: string, payload: Record<string, unknown>) =>
  relay.app.inject({ method: 'POST', url, headers: auth, payload });
const get = (auth: Auth, url: string) => relay.app.inject({ method: 'GET', url, headers: auth });
const lookupUrl = `/v1/contacts/lookup?crm=${DANA.crm}&objectType=${DANA.objectType}&id=${DANA.id}`;

async function reveals() {
  return db.query<{ org_id: string; user_id: string; actor: string; detail: unknown; occurred_at: Date }>(
    `SELECT org_id, user_id, actor, detail, occurred_at FROM auth_events WHERE kind = 'reveal' ORDER BY id`,
  );
}

beforeAll(async () => {
  relay = await testRelay(db, { clock: () => NOW });
  org = await seedOrg(db);
  otherOrg = await seedOrg(db, { name: 'Other Dental', sender: '+12025550101' });
  await optIn(relay.app, org, CUSTOMER);
  const sent = await relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...org.auth, 'idempotency-key': idemKey() },
    payload: { from: org.sender, to: CUSTOMER, body: 'Your cleaning is booked.' },
  });
  if (sent.statusCode !== 202) throw new Error(`seed send failed: ${sent.body}`);
  conversationId = (sent.json() as { message: { conversationId: string } }).message.conversationId;
  const reads = ['contacts.view', 'conversations.view', 'consent.view', 'numbers.view'];
  await customRole(org.orgId, 'front_desk', reads);
  await customRole(org.orgId, 'front_desk_reveal', [...reads, 'pii.reveal']);
  await customRole(otherOrg.orgId, 'front_desk_reveal', [...reads, 'pii.reveal', 'conversations.view_all']);
  owner = await user(org.orgId, 'owner@example.com', 'owner');
  desk = await user(org.orgId, 'desk@example.com', 'front_desk');
  revealer = await user(org.orgId, 'reveal@example.com', 'front_desk_reveal');
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('what each role sees of a contact number', () => {
  it('shows the owner the full number in the contact lookup, as /v1/me promises', async () => {
    const me = await get(owner.auth, '/v1/me');
    expect(me.json()).toMatchObject({ seesPii: true });
    const found = await get(owner.auth, lookupUrl);
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json()).toMatchObject({ contact: { phone: CUSTOMER } });
  });

  it('shows a role without pii.view the masked number only', async () => {
    for (const who of [desk, revealer]) {
      const me = await get(who.auth, '/v1/me');
      expect(me.json()).toMatchObject({ seesPii: false });
      const found = await get(who.auth, lookupUrl);
      expect(found.json()).toMatchObject({ contact: { phone: maskPhone(CUSTOMER) } });
      expect(found.body).not.toContain(CUSTOMER);
    }
  });
});

describe('POST /v1/contacts/reveal', () => {
  it('refuses a role with neither pii.view nor pii.reveal (403, stable code) and records nothing', async () => {
    const refused = await post(desk.auth, '/v1/contacts/reveal', DANA);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({
      error: { code: 'FORBIDDEN', message: expect.any(String), details: { permission: 'pii.reveal' } },
    });
    expect(refused.body).not.toContain(CUSTOMER);
    expect(await reveals()).toEqual([]);
  });

  it('reveals the number to a role with pii.reveal and records who saw whose number, and when', async () => {
    const revealed = await post(revealer.auth, '/v1/contacts/reveal', DANA);
    expect(revealed.statusCode, revealed.body).toBe(200);
    expect(revealed.json()).toEqual({ contact: DANA, phone: CUSTOMER });
    expect(await reveals()).toEqual([
      {
        org_id: org.orgId,
        user_id: revealer.userId,
        actor: `user:${revealer.userId}`,
        detail: { contact: DANA, phone: maskPhone(CUSTOMER) },
        occurred_at: NOW,
      },
    ]);
  });

  it('answers 404 CONTACT_NOT_FOUND for a record the CRM does not have, and records nothing', async () => {
    const before = (await reveals()).length;
    const missing = await post(revealer.auth, '/v1/contacts/reveal', { ...DANA, id: 'c-9999' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'CONTACT_NOT_FOUND' } });
    expect(await reveals()).toHaveLength(before);
  });
});

describe('POST /v1/reveal (one conversation)', () => {
  it('refuses a role with neither pii.view nor pii.reveal (403, stable code) and records nothing', async () => {
    const before = (await reveals()).length;
    const refused = await post(desk.auth, '/v1/reveal', { conversationId });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      error: { code: 'FORBIDDEN', details: { permission: 'pii.reveal' } },
    });
    expect(await reveals()).toHaveLength(before);
  });

  it("answers 404 for another org's conversation, even to a role there that sees all and may reveal", async () => {
    const outsider = await user(otherOrg.orgId, 'outsider@example.com', 'front_desk_reveal');
    const before = (await reveals()).length;
    const refused = await post(outsider.auth, '/v1/reveal', { conversationId });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ error: { code: 'CONVERSATION_NOT_FOUND' } });
    expect(refused.body).not.toContain(CUSTOMER);
    expect(await reveals()).toHaveLength(before);
  });

  it('answers 404 for a conversation of its own org that the role may not open (not its own)', async () => {
    const before = (await reveals()).length;
    const refused = await post(revealer.auth, '/v1/reveal', { conversationId });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ error: { code: 'CONVERSATION_NOT_FOUND' } });
    expect(await reveals()).toHaveLength(before);
  });
});
