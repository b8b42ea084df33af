import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneCipher, PhoneTokenError } from '../../server/crypto/phone-tokens.ts';
import { tokenizeStoredPhones } from '../../server/crypto/phone-upgrade.ts';
import { vaultOf } from '../../server/crypto/vault.ts';
import { positionAt } from '../../server/live/event-position.ts';
import { EventHub } from '../../server/live/events.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
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
import { databaseDump } from '../helpers/stored-texts.ts';

// Customers' phone numbers at rest (issue #18, item 1): stored as tokens of the installation's
// phone key (server/crypto/phone-tokens.ts), so a dump holds none, while every lookup, the API,
// the inbox search and the CRM still see the numbers.
postgresSkipNote('phone numbers at rest');

describe('a phone token', () => {
  const cipher = new PhoneCipher(randomBytes(32));

  it('is the same for the same number, opens to it, and is no number', () => {
    const token = cipher.token('+12025550123');
    expect(cipher.token('+12025550123')).toBe(token);
    expect(cipher.token('+12025550124')).not.toBe(token);
    expect(token).not.toMatch(/\d{6}/);
    expect(cipher.number(token)).toBe('+12025550123');
    // A number in clear (a business's own sender number, a row from before tokens) passes through.
    expect(cipher.number('+14155550100')).toBe('+14155550100');
  });

  it('remembers tokens and tail hashes per key, never across keys, and hands out copies (#20)', () => {
    const other = new PhoneCipher(randomBytes(32));
    const numbers = Array.from({ length: 50 }, (_, i) => `+1202555${String(1000 + i)}`);
    const first = numbers.map((n) => [cipher.token(n), other.token(n), cipher.tails(n), other.tails(n)]);
    const again = numbers.map((n) => [cipher.token(n), other.token(n), cipher.tails(n), other.tails(n)]);
    expect(again).toEqual(first);
    for (const [mine, theirs, myTails, theirTails] of first) {
      expect(mine).not.toBe(theirs);
      expect(myTails).not.toEqual(theirTails);
    }
    // A remembered answer opens like a fresh one, and a caller changing its list changes no other.
    expect(numbers.map((n) => other.number(other.token(n)))).toEqual(numbers);
    const tails = cipher.tails('+12025550143');
    tails.length = 0;
    expect(cipher.tails('+12025550143')).toHaveLength(7);
    expect(cipher.tails('+12025550143')).toContain(cipher.tailOf('0143'));
  });

  it('does not open under another installation’s key, nor once tampered with', () => {
    const token = cipher.token('+12025550123');
    expect(() => new PhoneCipher(randomBytes(32)).number(token)).toThrow(PhoneTokenError);
    const raw = Buffer.from(token.slice(3), 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => cipher.number(`p1:${raw.toString('base64url')}`)).toThrow(PhoneTokenError);
  });
});

describe.each(ENGINES)('phone numbers at rest on %s', (engine) => {
  let relay: TestRelay;
  let drop: () => Promise<void>;
  let org: TestOrg;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const send = (to: string, body: string) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to, body },
    });
  const digits = (phone: string) => phone.slice(1);

  it('a dump holds none of the customers’ numbers, while the API, the inbox and its search show them', async () => {
    const texted = '+12025557311';
    const replying = '+12025557312';
    const leaving = '+12025557313';
    const stranger = '+12025557314';
    for (const phone of [texted, replying, leaving]) await optIn(relay.app, org, phone);
    expect((await send(texted, 'Your appointment is on Friday')).statusCode).toBe(202);
    await relay.sandbox.textFromHandset({ handset: replying, service: org.sender, text: 'Running late' });
    await relay.sandbox.textFromHandset({ handset: leaving, service: org.sender, text: 'STOP' });
    await relay.sandbox.textFromHandset({ handset: stranger, service: '+14155550100', text: 'Hello?' });
    const hold = await relay.app.inject({
      method: 'POST',
      url: '/v1/legal-holds',
      headers: org.auth,
      payload: { phone: texted, reason: 'Litigation 2026-114' },
    });
    expect(hold.statusCode, hold.body).toBe(201);
    // An opt-out overridden by hand is recorded in the auth log and the audit log too.
    const overridden = '+12025557315';
    await optIn(relay.app, org, overridden);
    await relay.sandbox.textFromHandset({ handset: overridden, service: org.sender, text: 'STOP' });
    const override = await relay.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: org.auth,
      payload: {
        phone: overridden,
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Called the front desk on 3 Dec and asked for reminders again.',
        override: true,
      },
    });
    expect(override.statusCode, override.body).toBe(201);
    // A refused send goes to the review queue, keyed by its number.
    expect((await send(leaving, 'Still there?')).json().error.code).toBe('OPTED_OUT');
    const payment = await relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: texted, amountMinor: 4_500, description: 'Cleaning' },
    });
    expect(payment.statusCode, payment.body).toBe(201);
    await relay.worker.drain();

    const everything = await databaseDump(relay.db);
    for (const phone of [texted, replying, leaving, stranger, overridden])
      expect(everything).not.toContain(digits(phone));
    // The business's own number is public: it stays as it is.
    expect(everything).toContain(digits(org.sender));

    const consent = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(leaving)}`,
      headers: org.auth,
    });
    expect(consent.json()).toMatchObject({ status: 'opted_out' });
    const reviews = await relay.app.inject({ method: 'GET', url: '/v1/review-items', headers: org.auth });
    expect(reviews.json().items.map((i: { phone: string | null }) => i.phone)).toContain(leaving);
    const list = await relay.app.inject({ method: 'GET', url: '/v1/conversations', headers: org.auth });
    expect(list.json().conversations.map((c: { contactPhone: string }) => c.contactPhone)).toEqual(
      expect.arrayContaining([texted, replying, leaving]),
    );
    const thread = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent(replying)}`,
      headers: org.auth,
    });
    expect(thread.json().conversations).toHaveLength(1);

    const admin = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'ada@acme.example',
      role: 'admin',
      now: relay.clock(),
    });
    const search = async (q: string) =>
      (
        await relay.app.inject({
          method: 'GET',
          url: `/v1/inbox?filter=all&q=${encodeURIComponent(q)}`,
          headers: admin.auth,
        })
      )
        .json()
        .rows.map((r: { contactPhone: string }) => r.contactPhone);
    expect(await search(replying)).toEqual([replying]);
    expect(await search(replying.slice(-4))).toEqual([replying]);
    expect(await search('(202) 555-7312')).toEqual([replying]);
  });

  it('a live event whose text no longer opens still shows its numbers, never their tokens', async () => {
    const customer = '+12025557316';
    await relay.db.query(
      `INSERT INTO events (org_id, type, payload)
       VALUES ($1, 'message.created', jsonb_build_object('message', jsonb_build_object(
         'id', gen_random_uuid()::text, 'direction', 'outbound', 'from', $2::text, 'to', $3::text,
         'body', 'v1:gone', 'bodyKey', 999)))`,
      [org.orgId, org.sender, phoneToken(relay.db, customer)],
    );
    const events = await new EventHub(relay.db).backlog(
      org.orgId,
      positionAt({ txId: 0, id: 0 }),
      positionAt({ txId: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER }),
      1000,
    );
    const payload = events.at(-1)?.payload as { message?: Record<string, unknown> } | undefined;
    expect(payload?.message).toMatchObject({ from: org.sender, to: customer, body: '' });
  });

  it('numbers stored in clear before tokens become tokens when the database is opened, and read the same', async () => {
    const legacy = await seedOrg(relay.db, { name: 'Old Org', sender: '+12025550188' });
    const old = '+12025557399';
    await relay.db.query(
      `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, last_message_at)
       SELECT gen_random_uuid(), $1, id, $2, $3 FROM sender_numbers WHERE org_id = $1`,
      [legacy.orgId, old, relay.clock()],
    );
    await relay.db.query(
      `INSERT INTO consent_events (org_id, phone_e164, kind, source, evidence, actor, occurred_at)
       VALUES ($1, $2, 'opt_in', 'web_form', 'Booking form', 'system', $3)`,
      [legacy.orgId, old, relay.clock()],
    );
    // A delivery report that matched no message yet, kept with the provider's parameters.
    await relay.db.query(
      `INSERT INTO unmatched_status_callbacks (provider, provider_message_id, status, params)
       VALUES ('plivo', 'legacy-1', 'delivered', $1)`,
      [JSON.stringify({ To: digits(old), From: '12025550188', Status: 'delivered' })],
    );
    expect(await databaseDump(relay.db)).toContain(digits(old));

    const changed = await tokenizeStoredPhones(relay.db, vaultOf(relay.db).phones, { evenIfDone: true });
    expect(changed).toBe(3);
    expect(await databaseDump(relay.db)).not.toContain(digits(old));
    const [row] = await relay.db.query<{ contact_phone: string; contact_tails: string[] }>(
      'SELECT contact_phone, contact_tails FROM conversations WHERE org_id = $1',
      [legacy.orgId],
    );
    expect(row?.contact_phone).toBe(phoneToken(relay.db, old));
    expect(row?.contact_tails).toHaveLength(7);
    const consent = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(old)}`,
      headers: legacy.auth,
    });
    expect(consent.json()).toMatchObject({ status: 'opted_in', source: 'web_form' });
    expect(await tokenizeStoredPhones(relay.db, vaultOf(relay.db).phones, { evenIfDone: true })).toBe(0);
  });
});
