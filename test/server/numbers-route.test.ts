import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.ts';
import type { Database } from '../../server/db/database.ts';
import type { App } from '../../server/http/services.ts';
import { PlivoProvider } from '../../server/providers/plivo.ts';
import { FakePlivo } from '../fakes/plivo-fake.ts';
import { cliOn } from '../helpers/cli.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testConfig,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

// The admin console's sender numbers (POST and PATCH /v1/numbers): a number is registered only once
// the SMS provider says the relay's account holds it; nobody claims another organisation's number or
// hands its first replies to another organisation's user. The relay here hosts two organisations, so
// an org admin adds only numbers of the org's own Powerpack (number-assignment.test.ts has the rest).
postgresSkipNote('sender numbers API');

type Auth = { authorization: string };
const PLIVO = { authId: 'MAFAKEACCOUNT0000001', authToken: 'fake-plivo-token' };
const OTHER_SENDER = '+12025550101';

describe.each(ENGINES)('on %s', (engine) => {
  let drop: () => Promise<void>;
  let db: Database;
  /** The sandbox relay: its network holds every number. */
  let relay: TestRelay;
  /** The same relay's routes sending through Plivo (the real SDK against the fake). */
  let plivoApp: App;
  let fake: FakePlivo;
  /** Acme's own Powerpack (its plivoPowerpackUuid setting), which proves a number is Acme's. */
  let acmePowerpack: string;
  let org: TestOrg;
  let other: TestOrg;
  let admin: { userId: string; sessionId: string; auth: Auth };
  let rep: { userId: string; auth: Auth };
  let otherAdmin: { auth: Auth };
  let otherRepId: string;
  let auditorId: string;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    org = await seedOrg(db, { name: 'Acme Dental' });
    other = await seedOrg(db, { name: 'Other Plumbing', sender: OTHER_SENDER });
    const now = relay.clock();
    admin = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'ada@acme.test',
      role: 'admin',
      now,
    });
    rep = await signedInUser(relay.app, db, { orgId: org.orgId, email: 'rita@acme.test', role: 'rep', now });
    otherAdmin = await signedInUser(relay.app, db, {
      orgId: other.orgId,
      email: 'oscar@other.test',
      role: 'admin',
      now,
    });
    otherRepId = await testUser(db, { orgId: other.orgId, email: 'olga@other.test', role: 'rep', now });
    auditorId = await testUser(db, { orgId: org.orgId, email: 'audrey@acme.test', role: 'auditor', now });
    fake = new FakePlivo(PLIVO);
    const sms = new PlivoProvider({ ...PLIVO, apiUrl: await fake.start(), timeoutMs: 2000 });
    plivoApp = await buildApp({ config: testConfig(), db, sms, clock: relay.clock, payments: null });
    await plivoApp.ready();
    acmePowerpack = fake.powerpacks.create('Acme Dental');
    await db.query(
      `UPDATE orgs SET settings = settings || jsonb_build_object('plivoPowerpackUuid', $2::text) WHERE id = $1`,
      [org.orgId, acmePowerpack],
    );
  });
  afterAll(async () => {
    await plivoApp.close();
    await fake.stop();
    await relay.close();
    await drop();
  });

  const post = (auth: Auth, payload: unknown, app: App = plivoApp) =>
    app.inject({ method: 'POST', url: '/v1/numbers', headers: auth, payload: payload as object });
  const patch = (auth: Auth, id: string, payload: unknown) =>
    relay.app.inject({
      method: 'PATCH',
      url: `/v1/numbers/${id}`,
      headers: auth,
      payload: payload as object,
    });
  async function listed(auth: Auth = rep.auth): Promise<Record<string, unknown>[]> {
    const answer = await relay.app.inject({ method: 'GET', url: '/v1/numbers', headers: auth });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json().numbers;
  }
  const stored = async (e164: string) =>
    db.query<{ org_id: string; label: string | null; default_assignee_user_id: string | null }>(
      'SELECT org_id::text AS org_id, label, default_assignee_user_id::text AS default_assignee_user_id FROM sender_numbers WHERE e164 = $1',
      [e164],
    );
  const audited = async (action: string) =>
    db.query<{ actor: string; target_id: string; before: unknown; after: unknown }>(
      'SELECT actor, target_id, before, after FROM audit_log WHERE org_id = $1 AND action = $2 ORDER BY seq',
      [org.orgId, action],
    );
  const counts = async () => {
    const [row] = await db.query<{ numbers: number; audit: number }>(
      `SELECT (SELECT count(*)::int FROM sender_numbers) AS numbers,
              (SELECT count(*)::int FROM audit_log WHERE action LIKE 'number.%') AS audit`,
    );
    return row;
  };
  /** The account rents the number and it is in Acme's Powerpack. */
  const pooled = (e164: string, options: Parameters<FakePlivo['numbers']['rent']>[1] = {}) => {
    fake.numbers.rent(e164, options);
    fake.powerpacks.add(acmePowerpack, e164);
  };
  async function addNumber(e164: string): Promise<string> {
    pooled(e164);
    const answer = await post(admin.auth, { number: e164 });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json().id;
  }

  it("adds a number of the org's own Powerpack typed nationally, answers it as GET /v1/numbers lists it, and audits number.added", async () => {
    pooled('+12025550150');
    const answer = await post(admin.auth, {
      number: '(202) 555-0150',
      label: '  Front desk ',
      defaultAssigneeUserId: rep.userId,
    });
    expect(answer.statusCode, answer.body).toBe(201);
    const added = answer.json();
    expect(added).toEqual({
      id: expect.any(String),
      e164: '+12025550150',
      label: 'Front desk',
      numberType: 'long_code',
      defaultAssigneeUserId: rep.userId,
    });
    expect(await listed()).toContainEqual(added);
    const [entry] = await audited('number.added');
    expect(entry).toMatchObject({
      actor: `user:${admin.userId}`,
      target_id: added.id,
      after: { e164: '+12025550150', numberType: 'long_code', label: 'Front desk' },
    });
  });

  it('adds a number Plivo says the account rents, asking its rented-number resource, with its kind from Plivo', async () => {
    pooled('+18005550150', { numberType: 'tollfree' });
    const answer = await post(admin.auth, { number: '+1 800 555 0150', label: 'Billing' }, plivoApp);
    expect(answer.statusCode, answer.body).toBe(201);
    expect(answer.json()).toMatchObject({ e164: '+18005550150', numberType: 'toll_free', label: 'Billing' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      `GET /v1/Account/${PLIVO.authId}/Number/18005550150/`,
    );
    // A kind that contradicts Plivo's is refused rather than paced at the wrong rate.
    pooled('+12025550153');
    const wrong = await post(admin.auth, { number: '+12025550153', type: 'toll_free' }, plivoApp);
    expect(wrong.statusCode, wrong.body).toBe(422);
    expect(wrong.json().error).toMatchObject({
      code: 'NUMBER_TYPE_MISMATCH',
      details: { providerType: 'long_code' },
    });
    expect(await stored('+12025550153')).toEqual([]);
  });

  it("refuses a number outside the org's Powerpack (422 NUMBER_NOT_IN_POWERPACK), storing and auditing nothing", async () => {
    const before = await counts();
    const answer = await post(admin.auth, { number: '+12025550151' }, plivoApp);
    expect(answer.statusCode, answer.body).toBe(422);
    expect(answer.json().error.code).toBe('NUMBER_NOT_IN_POWERPACK');
    expect(answer.json().error.message).toContain("add it to that Powerpack's number pool in Plivo");
    expect(await stored('+12025550151')).toEqual([]);
    expect(await counts()).toEqual(before);
    // Nor one of its Powerpack that cannot text.
    pooled('+12025550154', { smsEnabled: false });
    const voiceOnly = await post(admin.auth, { number: '+12025550154' }, plivoApp);
    expect(voiceOnly.json().error.code).toBe('NUMBER_NOT_SMS_ENABLED');
    expect(await stored('+12025550154')).toEqual([]);
  });

  it('answers 502 SMS_PROVIDER_UNAVAILABLE and stores nothing while Plivo cannot answer, then adds it once Plivo can', async () => {
    pooled('+12025550152');
    const before = await counts();
    for (const failure of ['500', '429'] as const) {
      fake.numbers.queuedFailures.push(failure);
      const answer = await post(admin.auth, { number: '+12025550152' }, plivoApp);
      expect(answer.statusCode, answer.body).toBe(502);
      expect(answer.json().error).toMatchObject({
        code: 'SMS_PROVIDER_UNAVAILABLE',
        details: { provider: 'plivo', retryable: true },
      });
    }
    expect(await stored('+12025550152')).toEqual([]);
    expect(await counts()).toEqual(before);
    expect((await post(admin.auth, { number: '+12025550152' }, plivoApp)).statusCode).toBe(201);
  });

  it('asks Plivo in `npm run cli -- number add` as well (the operator: the account check alone), and audits what the CLI adds', async () => {
    const config = testConfig({
      smsProvider: 'plivo',
      plivo: { ...PLIVO, apiUrl: fake.baseUrl, powerpackUuid: null },
    });
    const add = (number: string) =>
      cliOn({ db, config }, 'number', 'add', '--org', org.orgId, '--number', number, '--json');
    const refused = await add('+12025550170');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).error.code).toBe('NUMBER_NOT_OWNED');
    expect(await stored('+12025550170')).toEqual([]);
    fake.numbers.rent('+12025550170');
    const added = await add('202-555-0170');
    expect(added.code, added.out).toBe(0);
    expect(JSON.parse(added.out)).toMatchObject({ e164: '+12025550170', numberType: 'long_code' });
    expect((await audited('number.added')).at(-1)).toMatchObject({ actor: 'cli' });
  });

  it("refuses another organisation's number with 409 NUMBER_TAKEN, naming no organisation, even when the org's Powerpack holds it", async () => {
    pooled(OTHER_SENDER);
    const answer = await post(admin.auth, { number: '202-555-0101', label: 'Mine now' });
    expect(answer.statusCode, answer.body).toBe(409);
    expect(answer.json().error.code).toBe('NUMBER_TAKEN');
    expect(answer.body).not.toContain(other.orgId);
    expect(answer.body).not.toContain('Other Plumbing');
    expect(await stored(OTHER_SENDER)).toEqual([
      { org_id: other.orgId, label: null, default_assignee_user_id: null },
    ]);
  });

  it("refuses another organisation's user, or one who may not text, as the default assignee, storing nothing", async () => {
    const before = await counts();
    const foreign = await post(admin.auth, { number: '+12025550155', defaultAssigneeUserId: otherRepId });
    expect(foreign.statusCode, foreign.body).toBe(422);
    expect(foreign.json().error.code).toBe('ASSIGNEE_NOT_FOUND');
    const auditor = await post(admin.auth, { number: '+12025550155', defaultAssigneeUserId: auditorId });
    expect(auditor.json().error.code).toBe('ASSIGNEE_CANNOT_TEXT');
    expect(await stored('+12025550155')).toEqual([]);
    expect(await counts()).toEqual(before);

    const id = await addNumber('+12025550156');
    const changed = await patch(admin.auth, id, { defaultAssigneeUserId: otherRepId });
    expect(changed.statusCode, changed.body).toBe(422);
    expect(changed.json().error.code).toBe('ASSIGNEE_NOT_FOUND');
    expect((await stored('+12025550156'))[0]?.default_assignee_user_id).toBeNull();
  });

  it('lets only org.manage add or change numbers: a rep is refused 403 FORBIDDEN', async () => {
    const id = await addNumber('+12025550157');
    const before = await counts();
    for (const answer of [
      await post(rep.auth, { number: '+12025550158' }),
      await patch(rep.auth, id, { label: 'Rep was here' }),
    ]) {
      expect(answer.statusCode, answer.body).toBe(403);
      expect(answer.json().error).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'org.manage' } });
    }
    expect(await counts()).toEqual(before);
  });

  it('takes changes from a signed-in person only (never an API key), and adding one needs a recent sign-in', async () => {
    const id = await addNumber('+12025550159');
    // org.auth is the owner's API key: it holds org.manage, but a key is not a person.
    expect((await post(org.auth, { number: '+12025550160' })).json().error.code).toBe('SESSION_REQUIRED');
    expect((await patch(org.auth, id, { label: 'By key' })).json().error.code).toBe('SESSION_REQUIRED');
    const late = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'lee@acme.test',
      role: 'owner',
      now: relay.clock(),
    });
    // Their sign-in was ten minutes ago: the access token still works, the proof is not recent.
    await db.query('UPDATE auth_sessions SET authenticated_at = $2 WHERE id = $1', [
      late.sessionId,
      new Date(relay.clock().getTime() - 10 * 60_000),
    ]);
    const stale = await post(late.auth, { number: '+12025550160' });
    expect(stale.statusCode, stale.body).toBe(403);
    expect(stale.json().error.code).toBe('REAUTH_REQUIRED');
    expect(await stored('+12025550160')).toEqual([]);
    expect((await patch(late.auth, id, { label: 'Relabelled' })).statusCode).toBe(200);
  });

  it('changes the label and default assignee, keeps what is left out, and audits number.updated', async () => {
    const id = await addNumber('+12025550161');
    const labelled = await patch(admin.auth, id, { label: ' Billing ', defaultAssigneeUserId: rep.userId });
    expect(labelled.statusCode, labelled.body).toBe(200);
    expect(labelled.json()).toEqual({
      id,
      e164: '+12025550161',
      label: 'Billing',
      numberType: 'long_code',
      defaultAssigneeUserId: rep.userId,
    });
    const queue = await patch(admin.auth, id, { defaultAssigneeUserId: null });
    expect(queue.json()).toMatchObject({ label: 'Billing', defaultAssigneeUserId: null });
    expect((await patch(admin.auth, id, { label: '' })).json().label).toBeNull();
    expect(await listed()).toContainEqual({ ...queue.json(), label: null });
    const entries = (await audited('number.updated')).filter((e) => e.target_id === id);
    expect(entries.map((e) => [e.before, e.after])).toEqual([
      [
        { label: null, defaultAssigneeUserId: null },
        { label: 'Billing', defaultAssigneeUserId: rep.userId },
      ],
      [
        { label: 'Billing', defaultAssigneeUserId: rep.userId },
        { label: 'Billing', defaultAssigneeUserId: null },
      ],
      [
        { label: 'Billing', defaultAssigneeUserId: null },
        { label: null, defaultAssigneeUserId: null },
      ],
    ]);
  });

  it("answers 404 NUMBER_NOT_FOUND to a change of another organisation's number, which stays as it was", async () => {
    const [theirs] = await db.query<{ id: string }>(
      'SELECT id::text AS id FROM sender_numbers WHERE e164 = $1',
      [OTHER_SENDER],
    );
    const answer = await patch(admin.auth, theirs?.id ?? '', {
      label: 'Hijacked',
      defaultAssigneeUserId: rep.userId,
    });
    expect(answer.statusCode, answer.body).toBe(404);
    expect(answer.json().error.code).toBe('NUMBER_NOT_FOUND');
    expect(answer.body).not.toContain(OTHER_SENDER);
    expect(await stored(OTHER_SENDER)).toEqual([
      { org_id: other.orgId, label: null, default_assignee_user_id: null },
    ]);
    // The other way round too: their admin cannot touch ours.
    const ours = await addNumber('+12025550162');
    expect((await patch(otherAdmin.auth, ours, { label: 'Theirs now' })).statusCode).toBe(404);
    expect((await stored('+12025550162'))[0]?.label).toBeNull();
  });

  it('refuses bad bodies with 400 and changes nothing', async () => {
    const id = await addNumber('+12025550163');
    const before = await counts();
    for (const body of [
      {},
      { number: '' },
      { number: 42 },
      { number: '+12025550164', type: 'landline' },
      { number: '+12025550164', owner: other.orgId },
      { number: '+12025550164', label: 'x'.repeat(101) },
      { number: '+12025550164', label: 'Front\ndesk' },
      { number: '+12025550164', defaultAssigneeUserId: 'not-a-uuid' },
    ]) {
      const answer = await post(admin.auth, body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
    }
    const unreadable = await post(admin.auth, { number: '555-01' });
    expect(unreadable.statusCode).toBe(422);
    expect(unreadable.json().error.code).toBe('INVALID_PHONE_NUMBER');
    for (const body of [{}, { label: 5 }, { e164: '+12025550165' }, { defaultAssigneeUserId: 'nobody' }]) {
      const answer = await patch(admin.auth, id, body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await patch(admin.auth, 'not-a-uuid', { label: 'x' })).statusCode).toBe(400);
    expect(await stored('+12025550164')).toEqual([]);
    expect((await stored('+12025550163'))[0]?.label).toBeNull();
    expect(await counts()).toEqual(before);
  });
});
