import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.ts';
import { readPaymentSettings, setPaymentSetting } from '../../server/payments/payment-settings.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { setPaymentGuards } from '../helpers/payments.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  steerableDaytimeClock,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// Issue #15 (6): the guards on payment links. Each is an attack: a rep draining customers with
// many links, one customer pestered, a large amount to a stranger, an amount far above the rep's
// usual, a stolen session asking for a large sum; and no org's holds touch another's.
postgresSkipNote('payment guards');

type Auth = { authorization: string };
interface Person {
  userId: string;
  sessionId: string;
  accessToken: string;
  auth: Auth;
}

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let rita: Person;
  let rob: Person;
  let mia: Person;
  const time = steerableDaytimeClock();
  let phoneSeq = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, {
      clock: time.clock,
    });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const person = (email: string, role: string) =>
      signedInUser(relay.app, relay.db, { orgId: org.orgId, email, role, now: relay.clock() });
    rita = await person('rita@acme.example', 'rep');
    rob = await person('rob@acme.example', 'rep');
    mia = await person('mia@acme.example', 'manager');
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  /** Signs the people in again: their sessions end when the clock jumps a day. */
  async function signInAgain(): Promise<void> {
    const login = async (who: Person, email: string) => {
      const response = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email, password: TEST_PASSWORD },
      });
      expect(response.statusCode, response.body).toBe(201);
      const { accessToken, sessionId } = response.json() as { accessToken: string; sessionId: string };
      Object.assign(who, { accessToken, sessionId, auth: { authorization: `Bearer ${accessToken}` } });
    };
    await login(rita, 'rita@acme.example');
    await login(rob, 'rob@acme.example');
    await login(mia, 'mia@acme.example');
  }

  const later = async (ms: number) => {
    time.advance(ms);
    await signInAgain();
  };

  /** A customer who opted in (of this org unless told) and, unless told, has texted in before. */
  async function customer(options: { org?: TestOrg; textedIn?: boolean } = {}): Promise<string> {
    phoneSeq += 1;
    const phone = `+1202555${String(2000 + phoneSeq).padStart(4, '0')}`;
    const owner = options.org ?? org;
    await optIn(relay.app, owner, phone);
    if (options.textedIn !== false)
      await relay.sandbox.textFromHandset({ handset: phone, service: owner.sender, text: 'Hi, can I pay?' });
    return phone;
  }

  const ask = (auth: Auth, to: string, amountMinor: number, from = org.sender) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: { from, to, amountMinor, description: 'Invoice' },
    });

  const holds = (auth: Auth, state = 'open') =>
    relay.app.inject({ method: 'GET', url: `/v1/payment-holds?state=${state}`, headers: auth });

  const release = (auth: Auth, id: string, note = 'Called the customer; it is fine.') =>
    relay.app.inject({
      method: 'POST',
      url: `/v1/payment-holds/${id}/release`,
      headers: auth,
      payload: { note },
    });

  it('stops a rep’s 24-hour total at the org’s limit, per rep, and counts again a day later', async () => {
    await setPaymentGuards(relay.db, org.orgId, { repDailyMaxMinor: '50000' });
    const phone = await customer();
    expect((await ask(rita.auth, phone, 30_000)).statusCode).toBe(201);
    const over = await ask(rita.auth, phone, 20_001);
    expect(over.statusCode, over.body).toBe(422);
    expect(over.json().error).toMatchObject({
      code: 'DAILY_LIMIT_REACHED',
      details: { limitMinor: 50_000, usedMinor: 30_000, currency: 'usd' },
    });
    // Nothing was stored for the refusal, and another rep has a limit of their own.
    const [count] = await relay.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM payment_requests WHERE org_id = $1 AND amount_minor = 20001',
      [org.orgId],
    );
    expect(count?.n).toBe(0);
    expect((await ask(rob.auth, phone, 20_001)).statusCode).toBe(201);
    await later(24 * 3_600_000 + 60_000);
    expect((await ask(rita.auth, await customer(), 20_001)).statusCode).toBe(201);
    await setPaymentGuards(relay.db, org.orgId, { repDailyMaxMinor: '2500000' });
  });

  it('holds a rep who asks for too many links within an hour until a manager releases it', async () => {
    await setPaymentGuards(relay.db, org.orgId, { holdLinksPerHour: '3' });
    await later(2 * 3_600_000);
    for (let i = 0; i < 3; i += 1)
      expect((await ask(rob.auth, await customer(), 1_000)).statusCode).toBe(201);
    const held = await ask(rob.auth, await customer(), 1_000);
    expect(held.statusCode, held.body).toBe(403);
    expect(held.json().error).toMatchObject({
      code: 'PAYMENTS_ON_HOLD',
      details: { reason: 'links_per_hour' },
    });
    const holdId: string = held.json().error.details.holdId;
    // Held for every customer, not only the next one; another rep goes on.
    expect((await ask(rob.auth, await customer(), 500)).json().error.code).toBe('PAYMENTS_ON_HOLD');
    expect((await ask(rita.auth, await customer(), 500)).statusCode).toBe(201);

    // The rep can neither see the holds nor release their own; the manager sees why and releases it.
    expect((await holds(rob.auth)).statusCode).toBe(403);
    expect((await release(rob.auth, holdId)).statusCode).toBe(403);
    const listed = await holds(mia.auth);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().holds).toContainEqual(
      expect.objectContaining({
        id: holdId,
        reason: 'links_per_hour',
        rep: expect.objectContaining({ userId: rob.userId }),
      }),
    );
    const released = await release(mia.auth, holdId);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json().hold).toMatchObject({
      id: holdId,
      releaseNote: 'Called the customer; it is fine.',
    });
    expect((await release(mia.auth, holdId)).json().error.code).toBe('HOLD_ALREADY_RELEASED');
    // Counting starts again after the release.
    expect((await ask(rob.auth, await customer(), 1_000)).statusCode).toBe(201);
    const [audit] = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'payment.hold_released' AND target_id = $2`,
      [org.orgId, holdId],
    );
    expect(audit?.n).toBe(1);
    await setPaymentGuards(relay.db, org.orgId, { holdLinksPerHour: '20' });
  });

  it('holds links to one number sent link after link, whichever rep sends them, in that org only', async () => {
    await later(2 * 3_600_000);
    const phone = await customer();
    await optIn(relay.app, other, phone);
    await setPaymentGuards(relay.db, org.orgId, { holdLinksPerNumberPerDay: '2' });
    expect((await ask(rita.auth, phone, 1_000)).statusCode).toBe(201);
    expect((await ask(rob.auth, phone, 1_000)).statusCode).toBe(201);
    const third = await ask(rita.auth, phone, 1_000);
    expect(third.json().error).toMatchObject({
      code: 'PAYMENTS_ON_HOLD',
      details: { reason: 'repeat_number' },
    });
    // The other org's rep texting the same person is not held by this org's hold, and sees none of it.
    const elsewhere = await ask(other.auth, phone, 1_000, other.sender);
    expect(elsewhere.json().error?.code).not.toBe('PAYMENTS_ON_HOLD');
    expect((await holds(other.auth, 'all')).json()).toEqual({ holds: [], nextCursor: null });
    const holdId: string = third.json().error.details.holdId;
    expect((await release(other.auth, holdId)).statusCode).toBe(404);
    await setPaymentGuards(relay.db, org.orgId, { holdLinksPerNumberPerDay: '3' });
  });

  it('asks a manager to approve a large amount to a number that never texted in, then lets that amount through', async () => {
    const stranger = await customer({ textedIn: false });
    const large = await ask(rita.auth, stranger, 150_000);
    expect(large.statusCode, large.body).toBe(403);
    expect(large.json().error).toMatchObject({
      code: 'PAYMENT_NEEDS_APPROVAL',
      details: { reason: 'unknown_number' },
    });
    // Asking again waits on the same hold instead of raising another.
    const again = await ask(rita.auth, stranger, 150_000);
    expect(again.json().error.details.holdId).toBe(large.json().error.details.holdId);
    // A small amount to the same stranger is fine.
    expect((await ask(rita.auth, stranger, 5_000)).statusCode).toBe(201);
    expect((await release(mia.auth, large.json().error.details.holdId)).statusCode).toBe(200);
    expect((await ask(rita.auth, stranger, 150_000)).statusCode).toBe(201);
    // The approval is for that rep, and up to that amount.
    expect((await ask(rob.auth, stranger, 150_000)).json().error.code).toBe('PAYMENT_NEEDS_APPROVAL');
    expect((await ask(rita.auth, stranger, 150_001)).json().error.code).toBe('PAYMENT_NEEDS_APPROVAL');
  });

  it('asks for approval of an amount far above what the rep usually asks for', async () => {
    await later(25 * 3_600_000);
    const rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'ursula@acme.example',
      role: 'rep',
      now: relay.clock(),
    });
    for (let i = 0; i < 5; i += 1)
      expect((await ask(rep.auth, await customer(), 2_000)).statusCode).toBe(201);
    expect((await ask(rep.auth, await customer(), 20_000)).statusCode).toBe(201);
    const far = await ask(rep.auth, await customer(), 20_001);
    expect(far.statusCode, far.body).toBe(403);
    expect(far.json().error).toMatchObject({
      code: 'PAYMENT_NEEDS_APPROVAL',
      details: { reason: 'unusual_amount' },
    });
  });

  it('needs a fresh authenticator code above the step-up threshold; a key or a stale session cannot', async () => {
    await later(25 * 3_600_000);
    await setPaymentGuards(relay.db, org.orgId, {
      stepUpAboveMinor: '50000',
      holdUnusualAmountFactor: '1000',
    });
    const phone = await customer();
    const byKey = await ask(org.auth, phone, 60_000);
    expect(byKey.statusCode).toBe(403);
    expect(byKey.json().error.code).toBe('STEP_UP_REQUIRED');
    // A password alone (the session's sign-in) is not a second factor.
    const stale = await ask(rita.auth, phone, 60_000);
    expect(stale.json().error).toMatchObject({
      code: 'STEP_UP_REQUIRED',
      details: { thresholdMinor: 50_000 },
    });
    expect((await ask(rita.auth, phone, 50_000)).statusCode).toBe(201);

    const headers = rita.auth;
    // Enrolling an authenticator is itself a sensitive change: the password first.
    const password = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/reauth',
      headers,
      payload: { password: TEST_PASSWORD },
    });
    expect(password.statusCode, password.body).toBe(200);
    expect((await ask(rita.auth, phone, 60_000)).json().error.code).toBe('STEP_UP_REQUIRED');
    const enrol = await relay.app.inject({ method: 'POST', url: '/v1/auth/totp/enrol', headers });
    const { secret } = enrol.json() as { secret: string };
    const confirm = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/confirm',
      headers,
      payload: { code: totpCode(secret, relay.clock()) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    time.advance(31_000);
    const reauth = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/reauth',
      headers,
      payload: { code: totpCode(secret, relay.clock()) },
    });
    expect(reauth.statusCode, reauth.body).toBe(200);
    expect((await ask(rita.auth, phone, 60_000)).statusCode).toBe(201);
    // Five minutes later the proof is stale again.
    time.advance(5 * 60_000 + 1_000);
    expect((await ask(rita.auth, phone, 60_000)).json().error.code).toBe('STEP_UP_REQUIRED');
  });

  it('refuses bad guard settings with a clear error and changes nothing', async () => {
    const before = await relay.db.query('SELECT settings FROM orgs WHERE id = $1', [org.orgId]);
    await expect(
      setPaymentSetting(relay.db, org.orgId, 'payments.holdLinksPerHour', '0'),
    ).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    });
    await expect(
      setPaymentSetting(relay.db, org.orgId, 'payments.stepUpAboveMinor', 'lots'),
    ).rejects.toMatchObject({ code: 'INVALID_SETTING' });
    expect(await relay.db.query('SELECT settings FROM orgs WHERE id = $1', [org.orgId])).toEqual(before);
    // "off" turns a threshold off.
    await setPaymentSetting(relay.db, org.orgId, 'payments.stepUpAboveMinor', 'off');
    expect((await readPaymentSettings(relay.db, org.orgId)).stepUpAboveMinor).toBeNull();
  });
});
