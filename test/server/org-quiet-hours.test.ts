import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// #17 item 3: the org's quiet-hours policy, set by an admin over HTTP (as the console's settings
// page does) and honoured alike by preflight, send and the outbox worker's re-check at dequeue.
// The relay's clock is pinned and moved forward by the test, never the machine's.
postgresSkipNote('org quiet-hours policy');

const NEW_ORLEANS = '+15045550177'; // America/Chicago; Louisiana bans texting in a declared emergency

describe.each(ENGINES)('on %s', (engine) => {
  let now = new Date('2026-06-09T13:50:00Z'); // Tuesday 09:50 in Washington DC
  const clock = () => now;
  const setClock = (iso: string) => {
    const next = new Date(iso);
    if (next < now) throw new Error('the test clock only moves forward');
    now = next;
  };
  let relay: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;
  let admins = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock });
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
    await optIn(relay.app, org, CUSTOMER);
    await optIn(relay.app, org, NEW_ORLEANS);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  /** An admin signed in at the relay's current time (the policy is changed by a person). */
  async function admin(): Promise<{ authorization: string }> {
    admins += 1;
    const signedIn = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: `admin${admins}@acme.test`,
      role: 'admin',
      now: clock(),
    });
    return signedIn.auth;
  }
  const put = (auth: { authorization: string }, key: string, value: unknown) =>
    relay.app.inject({ method: 'PUT', url: `/v1/org/settings/${key}`, headers: auth, payload: { value } });
  async function setPolicy(values: Record<string, unknown>): Promise<void> {
    const auth = await admin();
    for (const [key, value] of Object.entries(values)) {
      const answer = await put(auth, key, value);
      expect(answer.statusCode, answer.body).toBe(200);
    }
  }
  const preflight = (to: string) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages/preflight',
      headers: org.auth,
      payload: { from: org.sender, to, body: 'Your crown is ready.' },
    });
  const send = (payload: Record<string, unknown>) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Your crown is ready.', ...payload },
    });

  it('sets the policy over HTTP as a compliance setting: audited, no recent sign-in, checked', async () => {
    const auth = await admin();
    // Seven minutes after signing in: past the five a sign-in counts as recent, which an identity
    // policy would ask for; the quiet-hours policy is a compliance setting and does not.
    setClock('2026-06-09T13:57:00Z');
    expect((await put(auth, 'auth.requireSecondFactor', true)).json().error.code).toBe('REAUTH_REQUIRED');
    expect((await put(auth, 'quietHours.window', '9:00-18:00')).json()).toEqual({
      key: 'quietHours.window',
      value: '09:00-18:00',
    });
    expect((await put(auth, 'quietHours.days', 'Mon,tue,wed,thu,fri')).json().value).toBe(
      'mon,tue,wed,thu,fri',
    );
    const listed = await relay.app.inject({ method: 'GET', url: '/v1/org/settings', headers: auth });
    const settings = new Map(
      (listed.json().settings as Array<{ key: string; value: unknown }>).map((s) => [s.key, s.value]),
    );
    expect(settings.get('quietHours.window')).toBe('09:00-18:00');
    expect(settings.get('quietHours.days')).toBe('mon,tue,wed,thu,fri');
    expect(settings.get('quietHours.emergencyStates')).toBeNull();
    const [audited] = await relay.db.query<{ before: unknown; after: unknown }>(
      `SELECT before, after FROM audit_log
        WHERE org_id = $1 AND action = 'settings.changed' AND target_id = 'quietHours.window'`,
      [org.orgId],
    );
    expect(audited).toEqual({
      before: { 'quietHours.window': null },
      after: { 'quietHours.window': '09:00-18:00' },
    });

    const backwards = await put(auth, 'quietHours.window', '18:00-09:00');
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.code).toBe('INVALID_SETTING');
    const unknownState = await put(auth, 'quietHours.emergencyStates', 'LA,ZZ');
    expect(unknownState.statusCode).toBe(400);
    expect(unknownState.json().error).toMatchObject({
      code: 'INVALID_SETTING',
      details: { unknown: ['ZZ'] },
    });
    expect(unknownState.json().error.message).toContain('"ZZ"');
    expect((await put(auth, 'quietHours.weekends', 'off')).json().error.code).toBe('UNKNOWN_SETTING');
    // An integration's key changes no setting; the value it tried is not stored.
    const byKey = await put(org.auth, 'quietHours.window', '00:00-24:00');
    expect(byKey.json().error.code).toBe('SESSION_REQUIRED');
    const rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rita@acme.test',
      role: 'rep',
      now: clock(),
    });
    expect((await put(rep.auth, 'quietHours.window', '00:00-24:00')).statusCode).toBe(403);
    const [row] = await relay.db.query<{ settings: { quietHours: unknown } }>(
      'SELECT settings FROM orgs WHERE id = $1',
      [org.orgId],
    );
    expect(row?.settings.quietHours).toEqual({ window: '09:00-18:00', days: 'mon,tue,wed,thu,fri' });
  });

  it('applies a declared Louisiana emergency to Louisiana numbers only, until it is cleared', async () => {
    setClock('2026-06-09T16:00:00Z'); // Tuesday 11:00 in New Orleans
    expect((await preflight(NEW_ORLEANS)).json().allowed).toBe(true);
    await setPolicy({ 'quietHours.emergencyStates': 'la' });
    const banned = (await preflight(NEW_ORLEANS)).json();
    expect(banned).toMatchObject({ allowed: false, schedulable: false, nextAllowedAt: null });
    expect(banned.refusals[0]).toMatchObject({ code: 'QUIET_HOURS', details: { by: 'law' } });
    expect(banned.refusals[0].message).toContain('declared state of emergency');
    expect((await preflight(CUSTOMER)).json().allowed).toBe(true);
    await setPolicy({ 'quietHours.emergencyStates': null });
    expect((await preflight(NEW_ORLEANS)).json().allowed).toBe(true);
  });

  it('never lets a wider org window send at 22:00, when the law forbids it', async () => {
    await setPolicy({ 'quietHours.window': '06:00-23:00', 'quietHours.days': null });
    setClock('2026-06-10T02:00:00Z'); // Tuesday 22:00 in Washington DC
    const night = (await preflight(CUSTOMER)).json();
    expect(night).toMatchObject({ allowed: false, nextAllowedAt: '2026-06-10T12:00:00.000Z' }); // the law's 08:00
    expect(night.refusals[0].details).toMatchObject({ by: 'law', rule: 'US-federal@America/New_York' });
    expect((await send({})).statusCode).toBe(422);
  });

  it('refuses at preflight and send after business hours, schedulable for Monday 09:00', async () => {
    setClock('2026-06-12T13:30:00Z'); // Friday 09:30
    await setPolicy({ 'quietHours.window': '09:00-18:00', 'quietHours.days': 'mon,tue,wed,thu,fri' });
    setClock('2026-06-12T22:30:00Z'); // Friday 18:30
    const checked = (await preflight(CUSTOMER)).json();
    expect(checked).toMatchObject({
      allowed: false,
      schedulable: true,
      nextAllowedAt: '2026-06-15T13:00:00.000Z', // Saturday and Sunday are not the org's days
    });
    expect(checked.refusals[0].message).toMatch(
      /^Your organisation texts 09:00–18:00 recipient time, Monday to Friday; it is 18:30 on Friday/,
    );
    const refused = await send({});
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({
      code: 'QUIET_HOURS',
      details: { nextAllowedAt: '2026-06-15T13:00:00.000Z' },
    });
    const scheduled = await send({ sendAt: '2026-06-15T13:00:00.000Z' });
    expect(scheduled.statusCode, scheduled.body).toBe(202);
    expect(scheduled.json().scheduledFor).toBe('2026-06-15T13:00:00.000Z');
    expect((await send({ sendAt: '2026-06-13T15:00:00.000Z' })).json().error.code).toBe('QUIET_HOURS');
  });

  it('holds at dequeue a text accepted at 17:59 that reaches the queue’s head at 18:01', async () => {
    setClock('2026-06-15T21:59:00Z'); // Monday 17:59
    const accepted = await send({ body: 'See you tomorrow at 10.' });
    expect(accepted.statusCode, accepted.body).toBe(202);
    const id: string = accepted.json().message.id;
    setClock('2026-06-15T22:01:00Z');
    await relay.worker.drain();
    const [job] = await relay.db.query<{
      state: string;
      scheduled_for: Date;
      last_error: string;
      status: string;
    }>(
      `SELECT j.state, j.scheduled_for, j.last_error, m.status
         FROM outbox_jobs j JOIN messages m ON m.id = j.message_id WHERE m.id = $1`,
      [id],
    );
    expect(job).toMatchObject({ state: 'queued', status: 'queued' });
    expect(job?.last_error).toMatch(/^QUIET_HOURS/);
    expect(job?.scheduled_for.toISOString()).toBe('2026-06-16T13:00:00.000Z'); // Tuesday 09:00
  });

  it('lets a customer who just wrote be answered after business hours, never after the law’s', async () => {
    setClock('2026-06-15T23:00:00Z'); // Monday 19:00
    await setPolicy({ quietHoursReplyWindowMinutes: 10 });
    await relay.sandbox.textFromHandset({
      handset: CUSTOMER,
      service: org.sender,
      text: 'Are you open Tuesday?',
    });
    const evening = await send({ body: 'Yes, from 9.' });
    expect(evening.statusCode, evening.body).toBe(202);
    expect(evening.json().complianceException).toMatchObject({ policy: 'customer_reply_window' });
    // Excused of the org's hours at dequeue too, while its window lasts: it leaves.
    setClock('2026-06-15T23:01:00Z');
    await relay.worker.drain();
    const [left] = await relay.db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [
      evening.json().message.id,
    ]);
    expect(left?.status).not.toBe('queued');
    setClock('2026-06-16T01:58:00Z'); // 21:58: past the law's 21:00
    await relay.sandbox.textFromHandset({ handset: CUSTOMER, service: org.sender, text: 'And Wednesday?' });
    const night = await send({ body: 'Yes, Wednesday too.' });
    expect(night.statusCode).toBe(422);
    expect(night.json().error).toMatchObject({
      code: 'QUIET_HOURS',
      details: { refusals: [{ details: { by: 'law' } }] },
    });
  });
});
