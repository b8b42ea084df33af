import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrmRegistry } from '../../crm-plugins/registry.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { staticCrms } from '../../server/crm-sync/org-crms.ts';
import { type Database, type Queryable, TX_DATABASE } from '../../server/db/database.ts';
import { ApiError } from '../../server/errors.ts';
import {
  parseTemplatesValue,
  setOrgSetting,
  templateId,
} from '../../server/organisations/org-settings-admin.ts';
import { maskPhone } from '../../server/phone.ts';
import { checkOutbound, recipientLocalTime } from '../../server/sending-check/outbound-check.ts';
import { openReview } from '../../server/stores/consent-store.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
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
 * What the texting side panel needs of the relay: the contact's local time and consent story in
 * one lookup, the rep and the org's extension settings in /v1/me, "my conversations", and sending
 * to a CRM contact whose number the rep may not see.
 */

postgresSkipNote('panel support');

/** Sandbox demo contacts (crm-plugins/sandbox/contacts.ts) and their first phones. */
const DANA = { crm: 'sandbox', objectType: 'contact', id: 'c-1001' } as const; // +12025550143, New York
const MARCO = { crm: 'sandbox', objectType: 'contact', id: 'c-1002' } as const;
const MARCO_PHONE = '+13125550178';
const PRIYA = { crm: 'sandbox', objectType: 'contact', id: 'c-1003' } as const;
const PRIYA_PHONE = '+14155550132';
const SAM_PHONE = '+13035550161';

/** Friday 20 November 2026, 17:00 UTC: noon in New York, 9 a.m. in California. */
const NOW = new Date('2026-11-20T17:00:00.000Z');

const lookupUrl = (ref: { crm: string; objectType: string; id: string }) =>
  `/v1/contacts/lookup?crm=${ref.crm}&objectType=${ref.objectType}&id=${ref.id}`;

interface Lookup {
  contact: {
    phone: string | null;
    timeZone: string | null;
    localTime: { zone: string; source: string; localTime: string } | null;
  };
  consent: {
    status: string;
    updatedAt: string | null;
    source: string | null;
    evidence: {
      kind: string;
      source: string;
      evidence: string | null;
      actor: string | null;
      at: string;
    } | null;
    pendingOptIn: { source: string; requestedAt: string } | null;
    review: { reviewId: string; reason: string; since: string } | null;
  };
}

describe.each(ENGINES)('on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let org: TestOrg;
  let keyId: string;
  type Auth = { authorization: string };
  /** A rep with a display name. */
  let rep: { userId: string; auth: Auth };
  /** An admin user (sees every conversation). */
  let admin: { userId: string; auth: Auth };
  /** A custom role that may send and look contacts up but not see phone numbers (no pii.view). */
  let desk: { userId: string; auth: Auth };
  /** A custom role that may look contacts up but not read the consent ledger. */
  let lookupOnly: { userId: string; auth: Auth };

  async function customRole(name: string, permissions: string[]) {
    await db.query('INSERT INTO roles (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)', [
      randomUUID(),
      org.orgId,
      name,
      permissions,
    ]);
  }

  async function user(email: string, role: string, displayName: string | null = null) {
    const userId = randomUUID();
    await db.query('INSERT INTO users (id, org_id, email, display_name, role) VALUES ($1, $2, $3, $4, $5)', [
      userId,
      org.orgId,
      email,
      displayName,
      role,
    ]);
    const session = await createSession(db, { orgId: org.orgId, userId, stage: 'full', now: NOW });
    return { userId, auth: { authorization: `Bearer ${session.accessToken}` } };
  }

  const get = (auth: Auth, url: string) => relay.app.inject({ method: 'GET', url, headers: auth });
  const post = (auth: Auth, url: string, payload: Record<string, unknown>, headers = {}) =>
    relay.app.inject({ method: 'POST', url, headers: { ...auth, ...headers }, payload });
  const send = (auth: Auth, payload: Record<string, unknown>, key = idemKey()) =>
    post(auth, '/v1/messages', { from: org.sender, ...payload }, { 'idempotency-key': key });
  const lookup = async (auth: Auth, ref: { crm: string; objectType: string; id: string }) => {
    const response = await get(auth, lookupUrl(ref));
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Lookup;
  };

  /** Every table a refused request could have written to, counted. */
  const footprint = async () => {
    const [row] = await db.query<{ messages: number; settings: unknown } & Record<string, unknown>>(
      `SELECT (SELECT count(*)::int FROM messages) AS messages, (SELECT count(*)::int FROM outbox_jobs) AS jobs,
              (SELECT count(*)::int FROM conversations) AS conversations,
              (SELECT count(*)::int FROM contacts) AS contacts,
              (SELECT count(*)::int FROM consent_events) AS consent,
              (SELECT count(*)::int FROM consent_requests) AS requests,
              (SELECT settings FROM orgs WHERE id = $1) AS settings`,
      [org.orgId],
    );
    if (row === undefined) throw new Error('no footprint');
    return row;
  };

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db, { clock: () => NOW });
    org = await seedOrg(db);
    const [key] = await db.query<{ id: string }>('SELECT id FROM api_keys WHERE org_id = $1', [org.orgId]);
    keyId = key?.id ?? '';
    await customRole('front_desk', [
      'contacts.view',
      'conversations.view',
      'messages.send',
      'consent.view',
      'numbers.view',
    ]);
    await customRole('lookup_only', ['contacts.view', 'numbers.view']);
    rep = await user('riley@example.com', 'rep', 'Riley Rep');
    admin = await user('alex@example.com', 'admin');
    desk = await user('desk@example.com', 'front_desk');
    lookupOnly = await user('look@example.com', 'lookup_only');
    await optIn(relay.app, org, PRIYA_PHONE);
    await optIn(relay.app, org, SAM_PHONE);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  describe('GET /v1/contacts/lookup', () => {
    it("adds the customer's local time, resolved as quiet hours resolve it, and nothing else while no consent is recorded", async () => {
      const found = await lookup(org.auth, DANA);
      expect(found.contact).toMatchObject({ phone: CUSTOMER, timeZone: 'America/New_York' });
      expect(found.contact.localTime).toEqual({
        zone: 'America/New_York',
        source: 'crm_time_zone',
        localTime: '2026-11-20T12:00',
      });
      expect(found.consent).toEqual({
        status: 'unknown',
        updatedAt: null,
        source: null,
        evidence: null,
        pendingOptIn: null,
        review: null,
      });
    });

    it("gives the same local time as a send's preflight for the same contact", async () => {
      const found = await lookup(org.auth, PRIYA);
      const preflight = await post(org.auth, '/v1/messages/preflight', {
        from: org.sender,
        to: PRIYA_PHONE,
        contact: PRIYA,
        body: 'Your appointment is tomorrow at 10.',
      });
      const { recipientLocalTime: local } = preflight.json() as {
        recipientLocalTime: { zone: string; localTime: string; zoneSource: string };
      };
      expect(found.contact.localTime).toEqual({
        zone: local.zone,
        source: local.zoneSource,
        localTime: local.localTime,
      });
      expect(found.contact.localTime).toMatchObject({
        zone: 'America/Los_Angeles',
        localTime: '2026-11-20T09:00',
      });
    });

    it('shows the latest consent ledger event as evidence: kind, source, words, actor and time', async () => {
      const recorded = await post(org.auth, '/v1/consent', {
        phone: CUSTOMER,
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Agreed on a call from +12025550143; also reachable at (202) 555-0143.',
      });
      expect(recorded.statusCode, recorded.body).toBe(201);
      const found = await lookup(org.auth, DANA);
      expect(found.consent).toMatchObject({
        status: 'opted_in',
        source: 'verbal',
        pendingOptIn: null,
        review: null,
      });
      expect(found.consent.evidence).toEqual({
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Agreed on a call from +12025550143; also reachable at (202) 555-0143.',
        actor: 'test key',
        at: found.consent.updatedAt,
      });
    });

    it('masks the phone and every number inside the evidence for a role without pii.view', async () => {
      const found = await get(desk.auth, lookupUrl(DANA));
      expect(found.statusCode, found.body).toBe(200);
      const body = found.json() as Lookup;
      expect(body.contact.phone).toBe(maskPhone(CUSTOMER));
      expect(body.consent.evidence?.evidence).toBe(
        `Agreed on a call from ${maskPhone(CUSTOMER)}; also reachable at (•••) •••-0143.`,
      );
      expect(found.body).not.toMatch(/202\D{0,2}555/);
      // The clock and the consent story are not personal data: they stay.
      expect(body.contact.localTime).toMatchObject({ localTime: '2026-11-20T12:00' });
      expect(body.consent.status).toBe('opted_in');
    });

    it('leaves the ledger details out for a role without consent.view', async () => {
      const found = await lookup(lookupOnly.auth, DANA);
      expect(found.consent.evidence).toBeNull();
      expect(found.consent.status).toBe('opted_in');
      expect(found.contact.phone).toBe(maskPhone(CUSTOMER));
    });

    it('shows a double opt-in waiting for the customer’s YES', async () => {
      await setOrgSetting(db, org.orgId, 'doubleOptIn', 'true', { actor: 'cli', at: new Date() });
      try {
        const asked = await post(org.auth, '/v1/consent', {
          phone: MARCO_PHONE,
          kind: 'opt_in',
          source: 'web_form',
          evidence: 'Ticked the SMS box on the booking form',
        });
        expect(asked.statusCode, asked.body).toBe(202);
      } finally {
        await setOrgSetting(db, org.orgId, 'doubleOptIn', null, { actor: 'cli', at: new Date() });
      }
      const found = await lookup(org.auth, MARCO);
      expect(found.consent.status).toBe('unknown');
      expect(found.consent.evidence).toBeNull();
      expect(found.consent.pendingOptIn).toEqual({ source: 'web_form', requestedAt: expect.any(String) });
      expect(Number.isNaN(Date.parse(found.consent.pendingOptIn?.requestedAt ?? ''))).toBe(false);
    });

    it('shows the review that pauses texting, the same one a send is refused for', async () => {
      const sent = await send(org.auth, { to: PRIYA_PHONE, body: 'See you on Monday.' });
      expect(sent.statusCode, sent.body).toBe(202);
      const messageId = (sent.json() as { message: { id: string } }).message.id;
      await openReview(db, {
        orgId: org.orgId,
        phone: PRIYA_PHONE,
        messageId,
        reason: 'unclear: "text my husband at 415-555-0177 instead"',
        at: NOW,
      });
      const found = await lookup(org.auth, PRIYA);
      expect(found.consent.review).toEqual({
        reviewId: expect.any(String),
        reason: 'unclear: "text my husband at 415-555-0177 instead"',
        since: expect.any(String),
      });
      const refused = await send(org.auth, { to: PRIYA_PHONE, body: 'Are you there?' });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({
        error: {
          code: 'PAUSED_FOR_REVIEW',
          details: { refusals: [{ details: { reviewId: found.consent.review?.reviewId } }] },
        },
      });
      const masked = await lookup(desk.auth, PRIYA);
      expect(masked.consent.review?.reason).toBe('unclear: "text my husband at •••-•••-0177 instead"');
    });

    it('refuses unknown and unconnected contacts with stable codes', async () => {
      const missing = await get(org.auth, lookupUrl({ ...DANA, id: 'c-9999' }));
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: { code: 'CONTACT_NOT_FOUND' } });
      const hubspot = await get(org.auth, lookupUrl({ crm: 'hubspot', objectType: 'contact', id: '51' }));
      expect(hubspot.statusCode).toBe(409);
      expect(hubspot.json()).toMatchObject({ error: { code: 'CRM_NOT_CONNECTED' } });
    });

    it('has no local time for a number no zone can be found for', () => {
      expect(recipientLocalTime('+442079460958', null, NOW)).toBeNull();
      expect(recipientLocalTime('+12025550143', 'Not/AZone', NOW)).toEqual({
        zone: 'America/New_York',
        source: 'area_code',
        localTime: '2026-11-20T12:00',
      });
    });
  });

  describe('GET /v1/me', () => {
    it('tells a plain API key it is no user, and hands over no templates or locks by default', async () => {
      const me = await get(org.auth, '/v1/me');
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({
        orgId: org.orgId,
        keyId,
        userId: null,
        email: null,
        displayName: 'test key',
        seesPii: true,
        extension: { templates: [], locked: { notifications: null } },
      });
    });

    it("hands a rep their name and the org's templates and notification lock", async () => {
      const templates = [
        { name: 'Reminder', body: 'Hi {{firstName}}, see you tomorrow at 10. {{repName}}, {{orgName}}' },
        { name: 'Running late', body: 'Hi {{ name }}, I am running 10 minutes late.' },
      ];
      await setOrgSetting(db, org.orgId, 'messageTemplates', JSON.stringify(templates), {
        actor: 'cli',
        at: new Date(),
      });
      await setOrgSetting(db, org.orgId, 'extensionNotifications', 'mine', { actor: 'cli', at: new Date() });
      const me = await get(rep.auth, '/v1/me');
      expect(me.statusCode, me.body).toBe(200);
      const body = me.json() as { extension: { templates: { id: string }[] } };
      expect(body).toMatchObject({
        userId: rep.userId,
        keyId: null,
        role: 'rep',
        displayName: 'Riley Rep',
        email: expect.stringContaining('@'),
        seesPii: true,
        extension: {
          templates: [
            { id: templateId('Reminder'), ...templates[0] },
            { id: templateId('Running late'), ...templates[1] },
          ],
          locked: { notifications: 'mine' },
        },
      });

      // Reordering keeps each template's id.
      await setOrgSetting(db, org.orgId, 'messageTemplates', JSON.stringify([...templates].reverse()), {
        actor: 'cli',
        at: new Date(),
      });
      const again = (await get(rep.auth, '/v1/me')).json() as typeof body;
      expect(again.extension.templates.map((t) => t.id)).toEqual(
        body.extension.templates.map((t) => t.id).reverse(),
      );
    });

    it('says a role without pii.view sees no numbers, and names a user without a display name by email', async () => {
      const me = await get(desk.auth, '/v1/me');
      expect(me.json()).toMatchObject({
        seesPii: false,
        displayName: 'desk@example.com',
        role: 'front_desk',
      });
    });

    it('skips what a hand-edited settings row holds that no admin command would store', async () => {
      const before = await db.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
        org.orgId,
      ]);
      try {
        await db.query(`UPDATE orgs SET settings = settings || $2::jsonb WHERE id = $1`, [
          org.orgId,
          JSON.stringify({
            messageTemplates: [
              { name: 'Fine', body: 'ok' },
              'junk',
              { name: 'Bad', body: '{{x}}' },
              { name: 3 },
            ],
            extensionNotifications: 'sometimes',
          }),
        ]);
        const me = await get(rep.auth, '/v1/me');
        expect(me.statusCode).toBe(200);
        expect(me.json()).toMatchObject({
          extension: { templates: [{ name: 'Fine', body: 'ok' }], locked: { notifications: null } },
        });
      } finally {
        await db.query('UPDATE orgs SET settings = $2::jsonb WHERE id = $1', [
          org.orgId,
          JSON.stringify(before[0]?.settings ?? {}),
        ]);
      }
    });
  });

  describe('org settings for the extension', () => {
    const T = 'messageTemplates';
    const json = (value: unknown) => JSON.stringify(value);
    const invalid: [string, string, string, RegExp][] = [
      ['templates that are not JSON', T, '[{"name": "Reminder"', /not JSON/],
      ['templates that are not an array', T, json({ name: 'Reminder', body: 'Hi' }), /JSON array/],
      [
        '51 templates',
        T,
        json(Array.from({ length: 51 }, (_, i) => ({ name: `T${i}`, body: 'Hi' }))),
        /at most 50 templates; got 51/,
      ],
      ['a blank name', T, json([{ name: ' ', body: 'Hi' }]), /\[0\]\.name must be 1 to 60/],
      ['a 61-character name', T, json([{ name: 'x'.repeat(61), body: 'Hi' }]), /\[0\]\.name must be 1 to 60/],
      ['a missing name', T, json([{ body: 'Hi' }]), /\[0\]\.name/],
      ['a blank body', T, json([{ name: 'Empty', body: '  ' }]), /\[0\]\.body \("Empty"\) must be 1 to 1600/],
      ['a 1601-character body', T, json([{ name: 'Long', body: 'x'.repeat(1601) }]), /1 to 1600/],
      ['a template that is not an object', T, json(['Hi']), /\[0\] must be an object/],
      ['a template with an id', T, json([{ name: 'A', body: 'Hi', id: 'x' }]), /unknown fields: id/],
      [
        'two templates of one name (case aside)',
        T,
        json([
          { name: 'Reminder', body: 'Hi' },
          { name: ' reminder ', body: 'Hello' },
        ]),
        /\[0\] and messageTemplates\[1\] are both named "reminder"/,
      ],
      [
        'an unknown merge field',
        T,
        json([{ name: 'Nick', body: 'Hi {{nickname}}, {{firstName}}' }]),
        /\[0\] \("Nick"\) uses unknown merge field \{\{nickname\}\}; known: \{\{firstName\}\}/,
      ],
      [
        'an unclosed merge field',
        T,
        json([{ name: 'Open', body: 'Hi {{firstName' }]),
        /without its "\{\{" or "\}\}"/,
      ],
      [
        'a notification lock of "sometimes"',
        'extensionNotifications',
        'sometimes',
        /must be off, mine, all; got "sometimes"/,
      ],
      ['an empty notification lock', 'extensionNotifications', '', /must be off, mine, all/],
    ];

    it.each(invalid)(
      'refuses %s with INVALID_SETTING and changes nothing',
      async (_label, key, value, message) => {
        const before = await footprint();
        const error = await setOrgSetting(db, org.orgId, key, value, { actor: 'cli', at: new Date() }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ApiError);
        expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_SETTING' });
        expect((error as ApiError).message).toMatch(message);
        expect(await footprint()).toEqual(before);
      },
    );

    it('stores templates trimmed of surrounding space in their names, merge fields as written', () => {
      expect(parseTemplatesValue(JSON.stringify([{ name: '  Hello ', body: 'Hi {{ firstName }}' }]))).toEqual(
        [{ name: 'Hello', body: 'Hi {{ firstName }}' }],
      );
      expect(parseTemplatesValue('[]')).toEqual([]);
    });
  });

  describe('GET /v1/conversations?mine=true', () => {
    let repConversation: string;
    let adminConversation: string;

    beforeAll(async () => {
      const byRep = await send(rep.auth, { to: SAM_PHONE, body: 'Hello from Riley' });
      expect(byRep.statusCode, byRep.body).toBe(202);
      repConversation = (byRep.json() as { message: { conversationId: string } }).message.conversationId;
      const byAdmin = await send(admin.auth, { to: CUSTOMER, body: 'Hello from Alex' });
      expect(byAdmin.statusCode, byAdmin.body).toBe(202);
      adminConversation = (byAdmin.json() as { message: { conversationId: string } }).message.conversationId;
    });

    const ids = async (auth: Auth, query: string) => {
      const response = await get(auth, `/v1/conversations${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { conversations: { id: string }[] }).conversations.map((c) => c.id);
    };

    it('lists only the conversations the caller has sent in, even for a role that sees them all', async () => {
      expect(await ids(admin.auth, '?mine=true')).toEqual([adminConversation]);
      const all = await ids(admin.auth, '');
      expect(all).toEqual(expect.arrayContaining([adminConversation, repConversation]));
      expect(await ids(admin.auth, '?mine=false')).toEqual(all);
      expect(await ids(rep.auth, '?mine=true')).toEqual([repConversation]);
      expect(await ids(desk.auth, '?mine=true')).toEqual([]);
    });

    it('names the rep who sent each text in the history, not only in the send’s answer', async () => {
      const page = await get(rep.auth, `/v1/conversations/${repConversation}/messages`);
      expect(page.statusCode, page.body).toBe(200);
      const [message] = (page.json() as { messages: { body: string; sentBy: string | null }[] }).messages;
      // A session has no API key: the rep is named by their email, as the send itself named them.
      expect(message?.body).toContain('Hello from Riley');
      expect(message?.sentBy).toBe('riley@example.com');
    });

    it('refuses "mine" for an API key that belongs to no user, and a "mine" that is not a boolean', async () => {
      const keyless = await get(org.auth, '/v1/conversations?mine=true');
      expect(keyless.statusCode).toBe(400);
      expect(keyless.json()).toMatchObject({ error: { code: 'MINE_REQUIRES_USER' } });
      const junk = await get(rep.auth, '/v1/conversations?mine=maybe');
      expect(junk.statusCode).toBe(400);
      expect(junk.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    });
  });

  describe('sending to a CRM contact without "to"', () => {
    it('texts the contact’s CRM phone for a role that may not see it, and answers with the number masked', async () => {
      const before = await footprint();
      const key = idemKey();
      const payload = { contact: DANA, body: 'Your appointment is confirmed for Monday.' };
      const sent = await send(desk.auth, payload, key);
      expect(sent.statusCode, sent.body).toBe(202);
      expect(sent.body).not.toContain(CUSTOMER);
      const { message } = sent.json() as { message: { id: string; to: string } };
      expect(message.to).toBe(maskPhone(CUSTOMER));
      const [stored] = await db.query<{ to_e164: string; sent_by_user_id: string; crm_id: string }>(
        `SELECT m.to_e164, m.sent_by_user_id, ct.crm_id FROM messages m
           JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id
          WHERE m.id = $1`,
        [message.id],
      );
      expect(stored).toEqual({
        to_e164: phoneToken(db, CUSTOMER),
        sent_by_user_id: desk.userId,
        crm_id: DANA.id,
      });
      expect((await footprint()).messages).toBe(before.messages + 1);

      // A retry answers with the stored message and stores nothing; the same key with "to" is another request.
      const retry = await send(desk.auth, payload, key);
      expect(retry.statusCode).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect((retry.json() as { message: { id: string } }).message.id).toBe(message.id);
      const changed = await send(org.auth, { ...payload, to: CUSTOMER }, key);
      expect(changed.statusCode).toBe(409);
      expect(changed.json()).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
      expect((await footprint()).messages).toBe(before.messages + 1);
    });

    it('hashes a request with "to" exactly as before "to" became optional', async () => {
      const key = idemKey();
      const payload = { to: CUSTOMER, body: 'Reply here if you need to reschedule.' };
      expect((await send(org.auth, payload, key)).statusCode).toBe(202);
      const [row] = await db.query<{ request_hash: string }>(
        'SELECT request_hash FROM messages WHERE org_id = $1 AND idempotency_key = $2',
        [org.orgId, key],
      );
      const before = createHash('sha256')
        .update(JSON.stringify({ from: org.sender, to: CUSTOMER, body: payload.body, contact: null }))
        .digest('hex');
      expect(row?.request_hash).toBe(before);
    });

    it('preflights a text to the contact without "to"', async () => {
      const checked = await post(desk.auth, '/v1/messages/preflight', {
        from: org.sender,
        contact: DANA,
        body: 'Your appointment is confirmed for Monday.',
      });
      expect(checked.statusCode, checked.body).toBe(200);
      expect(checked.json()).toMatchObject({
        allowed: true,
        recipientLocalTime: { zone: 'America/New_York', localTime: '2026-11-20T12:00' },
      });
      expect(checked.body).not.toContain(CUSTOMER);
    });

    it('applies the rules to the looked-up phone (no consent, no text)', async () => {
      const before = await footprint();
      const refused = await send(desk.auth, { contact: MARCO, body: 'Hello!' });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ error: { code: 'NO_CONSENT' } });
      expect(refused.body).not.toContain(MARCO_PHONE);
      expect(await footprint()).toEqual(before);
    });

    const refusals: [string, Record<string, unknown>, number, string][] = [
      ['neither "to" nor "contact"', { body: 'Hello' }, 400, 'CONTACT_REFERENCE_REQUIRED'],
      [
        'a CRM that is not connected',
        { contact: { crm: 'hubspot', objectType: 'contact', id: '51' }, body: 'Hello' },
        409,
        'CRM_NOT_CONNECTED',
      ],
      [
        'a contact the CRM does not have',
        { contact: { ...DANA, id: 'c-9999' }, body: 'Hello' },
        404,
        'CONTACT_NOT_FOUND',
      ],
      ['an empty body', { contact: DANA, body: '   ' }, 422, 'EMPTY_BODY'],
      [
        'a bad "to" next to a contact',
        { to: '+1202555', contact: DANA, body: 'Hello' },
        422,
        'INVALID_PHONE_NUMBER',
      ],
    ];

    it.each(refusals)(
      'refuses %s on send and preflight, storing nothing',
      async (_name, payload, status, code) => {
        const before = await footprint();
        const sent = await send(desk.auth, payload);
        expect(sent.statusCode, sent.body).toBe(status);
        expect(sent.json()).toMatchObject({ error: { code } });
        const checked = await post(desk.auth, '/v1/messages/preflight', { from: org.sender, ...payload });
        expect(checked.statusCode, checked.body).toBe(status);
        expect(checked.json()).toMatchObject({ error: { code } });
        expect(await footprint()).toEqual(before);
      },
    );

    it('refuses a contact with no phone (422 CONTACT_HAS_NO_PHONE) and reads nothing from the database', async () => {
      const crm = createCrmRegistry({
        sandbox: {
          contacts: [
            {
              ref: { crm: 'sandbox', objectType: 'lead', id: 'l-0' },
              name: 'No Phone',
              phones: [],
              timeZone: null,
              ownerEmail: null,
            },
          ],
        },
      });
      const queries: string[] = [];
      const counting: Queryable = {
        query: <T>(sql: string, params?: readonly unknown[]) => {
          queries.push(sql);
          return db.query<T>(sql, params);
        },
      };
      const error = await checkOutbound(
        { db: counting, crm: staticCrms(crm), clock: () => NOW },
        org.orgId,
        { from: org.sender, contact: { crm: 'sandbox', objectType: 'lead', id: 'l-0' }, body: 'Hello' },
        { idempotencyKey: null },
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ statusCode: 422, code: 'CONTACT_HAS_NO_PHONE' });
      expect(queries).toEqual([]);
    });

    it('adds no query to the send path when "to" is given', async () => {
      const queries: string[] = [];
      const counting: Queryable & { [TX_DATABASE]: Queryable } = {
        // A handle on the same database: its key vault (and phone key) is found through it.
        [TX_DATABASE]: db,
        query: <T>(sql: string, params?: readonly unknown[]) => {
          queries.push(sql);
          return db.query<T>(sql, params);
        },
      };
      const deps = { db: counting, crm: staticCrms(createCrmRegistry(['sandbox'])), clock: () => NOW };
      const input = { from: org.sender, to: CUSTOMER, body: 'Hello' };
      const plain = await checkOutbound(deps, org.orgId, input, { idempotencyKey: idemKey() });
      expect(plain.to).toBe(CUSTOMER);
      const withContact = await checkOutbound(
        deps,
        org.orgId,
        { ...input, contact: DANA },
        {
          idempotencyKey: idemKey(),
        },
      );
      expect(withContact.to).toBe(CUSTOMER);
      expect(queries).toHaveLength(2);
    });
  });
});
