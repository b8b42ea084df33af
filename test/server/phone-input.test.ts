import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { freshPgliteRelay, idemKey, seedOrg, type TestOrg, type TestRelay } from '../helpers/relay.ts';

let relay: TestRelay;
let db: Database;
let org: TestOrg;

beforeAll(async () => {
  relay = await freshPgliteRelay();
  db = relay.db;
  org = await seedOrg(db);
});
afterAll(async () => {
  await relay.close();
  await db.close();
});

const EVIDENCE = 'Agreed on the phone call of 2026-11-02';

/** Each way a rep writes a US number, and the E.164 the relay stores (one customer per form). */
const FORMS: Array<[string, string, string]> = [
  ['E.164', '+12025550151', '+12025550151'],
  ['international with brackets', '+1 (202) 555-0152', '+12025550152'],
  ['international with dashes', '+1-202-555-0153', '+12025550153'],
  ['national with dashes', '202-555-0154', '+12025550154'],
  ['national with brackets', '(202) 555-0155', '+12025550155'],
  ['national with dots', '202.555.0156', '+12025550156'],
  ['national with the trunk 1', '1 202 555 0157', '+12025550157'],
  ['international by the US exit code', '011 1 202 555 0158', '+12025550158'],
];

const inject = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
  relay.app.inject({
    method,
    url,
    headers: { ...org.auth, 'idempotency-key': idemKey() },
    ...(payload === undefined ? {} : { payload }),
  });

const messageCount = async () =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages'))[0]?.n;
const consentCount = async () =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM consent_events'))[0]?.n;

describe('phone numbers as people write them', () => {
  it.each(FORMS)(
    'reads a number written %s (%s) on every route that takes one',
    async (_form, typed, e164) => {
      const recorded = await inject('POST', '/v1/consent', {
        phone: typed,
        kind: 'opt_in',
        source: 'verbal',
        evidence: EVIDENCE,
      });
      expect(recorded.statusCode, recorded.body).toBe(201);
      expect(recorded.json().phone).toBe(e164);

      const standing = await inject('GET', `/v1/consent/${encodeURIComponent(typed)}`);
      expect(standing.statusCode, standing.body).toBe(200);
      expect(standing.json()).toMatchObject({ phone: e164, status: 'opted_in' });

      const checked = await inject('POST', '/v1/messages/preflight', {
        from: org.sender,
        to: typed,
        body: 'Hi',
      });
      expect(checked.statusCode, checked.body).toBe(200);
      expect(checked.json().allowed).toBe(true);

      const sent = await inject('POST', '/v1/messages', { from: org.sender, to: typed, body: 'Hi' });
      expect(sent.statusCode, sent.body).toBe(202);
      expect(sent.json().message.to).toBe(e164);

      const found = await inject('GET', `/v1/conversations?phone=${encodeURIComponent(typed)}`);
      expect(found.statusCode, found.body).toBe(200);
      expect(found.json().conversations.map((c: { contactPhone: string }) => c.contactPhone)).toEqual([e164]);
    },
  );

  it('reads the sender number "from" as written too', async () => {
    const sent = await inject('POST', '/v1/messages', {
      from: '(202) 555-0100',
      to: '+12025550151',
      body: 'From a national form',
    });
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json().message.from).toBe(org.sender);
  });

  it.each([
    ['words', 'call me'],
    ['too few digits', '555-014'],
    ['too many digits', '+1 202 555 0143 9999'],
    ['a country code that does not exist', '+999 123 456'],
    ['a letter among the digits', '202-555-O143'],
  ])('refuses %s on every route, naming the field and how to write a number', async (_name, typed) => {
    const before = { messages: await messageCount(), consent: await consentCount() };
    const refusals = [
      await inject('POST', '/v1/consent', {
        phone: typed,
        kind: 'opt_in',
        source: 'verbal',
        evidence: EVIDENCE,
      }),
      await inject('GET', `/v1/consent/${encodeURIComponent(typed)}`),
      await inject('POST', '/v1/messages/preflight', { from: org.sender, to: typed, body: 'Hi' }),
      await inject('POST', '/v1/messages', { from: org.sender, to: typed, body: 'Hi' }),
      await inject('POST', '/v1/messages', { from: typed, to: '+12025550151', body: 'Hi' }),
      await inject('GET', `/v1/conversations?phone=${encodeURIComponent(typed)}`),
    ];
    for (const refused of refusals) {
      expect(refused.statusCode, refused.body).toBe(422);
      const { error } = refused.json();
      expect(error.code).toBe('INVALID_PHONE_NUMBER');
      expect(error.message).toContain('Enter a phone number like 202-555-0143 or +44 20 7946 0958.');
      expect(error.message).not.toMatch(/pattern|\^|E\.164/);
      expect(error.message).toContain(`"${error.details.field}"`);
      expect(['phone', 'to', 'from']).toContain(error.details.field);
    }
    expect({ messages: await messageCount(), consent: await consentCount() }).toEqual(before);
  });

  it("reads a national number in the org's default country", async () => {
    const uk = await seedOrg(db, { name: 'London Dental', sender: '+442079460100' });
    await setOrgSetting(db, uk.orgId, 'defaultCountry', 'gb', { actor: 'cli', at: new Date() });
    const recorded = await relay.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: uk.auth,
      payload: { phone: '020 7946 0958', kind: 'opt_in', source: 'verbal', evidence: EVIDENCE },
    });
    expect(recorded.statusCode, recorded.body).toBe(201);
    expect(recorded.json().phone).toBe('+442079460958');
    const refused = await relay.app.inject({
      method: 'GET',
      url: '/v1/consent/123',
      headers: uk.auth,
    });
    expect(refused.json().error.message).toContain('like 020 7946 0958 or +44 20 7946 0958');
  });

  it('refuses a default country that is not a two-letter country code, changing nothing', async () => {
    const before = await db.query('SELECT settings FROM orgs WHERE id = $1', [org.orgId]);
    await expect(
      setOrgSetting(db, org.orgId, 'defaultCountry', 'England', { actor: 'cli', at: new Date() }),
    ).rejects.toMatchObject({
      code: 'INVALID_SETTING',
      message: expect.stringContaining('two-letter country code'),
    });
    expect(await db.query('SELECT settings FROM orgs WHERE id = $1', [org.orgId])).toEqual(before);
  });
});
