import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.ts';
import type { Database } from '../../server/db/database.ts';
import type { App } from '../../server/http/services.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
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
} from '../helpers/relay.ts';

// Who may register a sender number on a relay several organisations share on one Plivo account
// (POST /v1/numbers, `npm run cli -- number add`). The account holding a number proves nothing about
// which organisation rents it: an org admin proves it with the org's own Powerpack, otherwise the
// relay's operator assigns it. Refusals come before Plivo is asked, so they probe nothing.
postgresSkipNote('sender number assignment');

type Auth = { authorization: string };
const PLIVO = { authId: 'MAFAKEACCOUNT0000001', authToken: 'fake-plivo-token' };
const B_SENDER = '+12025550101';
/** The operator rented this number for org B, which has not registered it yet. */
const RENTED_FOR_B = '+12025550190';

describe.each(ENGINES)('on %s', (engine) => {
  let drop: () => Promise<void>;
  let db: Database;
  /** The relay on the sandbox network (no Powerpacks). */
  let relay: TestRelay;
  /** The same relay's routes on Plivo (the real SDK against the fake), with a relay-wide Powerpack. */
  let plivoApp: App;
  let fake: FakePlivo;
  let relayPowerpack: string;
  let orgA: TestOrg;
  let adminA: { auth: Auth };

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    orgA = await seedOrg(db, { name: 'Acme Dental' });
    adminA = await signedInUser(relay.app, db, {
      orgId: orgA.orgId,
      email: 'ada@acme.test',
      role: 'admin',
      now: relay.clock(),
    });
    fake = new FakePlivo(PLIVO);
    const apiUrl = await fake.start();
    relayPowerpack = fake.powerpacks.create('Relay default');
    const plivo = { ...PLIVO, apiUrl, powerpackUuid: relayPowerpack };
    plivoApp = await buildApp({
      config: testConfig({ plivo }),
      db,
      sms: new PlivoProvider({ ...plivo, timeoutMs: 2000 }),
      clock: relay.clock,
      payments: null,
    });
    await plivoApp.ready();
  });
  afterAll(async () => {
    await plivoApp.close();
    await fake.stop();
    await relay.close();
    await drop();
  });

  const post = (auth: Auth, number: string, app: App = plivoApp) =>
    app.inject({ method: 'POST', url: '/v1/numbers', headers: auth, payload: { number } });
  /** The org's own Powerpack, as the relay's operator sets it (over HTTP it is the operator's on a shared relay). */
  const setPowerpack = (orgId: string, value: string | null) =>
    setOrgSetting(db, orgId, 'plivoPowerpackUuid', value, { actor: 'cli', at: relay.clock() });
  const stored = async (e164: string) =>
    db.query<{ org_id: string }>('SELECT org_id::text AS org_id FROM sender_numbers WHERE e164 = $1', [e164]);
  const counts = async () =>
    db.query<{ numbers: number; audit: number }>(
      `SELECT (SELECT count(*)::int FROM sender_numbers) AS numbers,
              (SELECT count(*)::int FROM audit_log WHERE action LIKE 'number.%') AS audit`,
    );
  /** What the relay asked Plivo while `run` ran. */
  async function askedDuring(run: () => Promise<void>): Promise<string[]> {
    const before = fake.requests.length;
    await run();
    return fake.requests.slice(before).map((r) => `${r.method} ${r.path}`);
  }
  const accountLookup = (digits: string) => `GET /v1/Account/${PLIVO.authId}/Number/${digits}/`;

  it('on a relay of one organisation, adds a number once Plivo says the account holds it, as before', async () => {
    fake.numbers.rent('+12025550160');
    const asked = await askedDuring(async () => {
      const answer = await post(adminA.auth, '+12025550160');
      expect(answer.statusCode, answer.body).toBe(201);
    });
    expect(asked).toEqual([accountLookup('12025550160')]);
    const refused = await post(adminA.auth, '+12025550161');
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().error.code).toBe('NUMBER_NOT_OWNED');
    expect(await stored('+12025550161')).toEqual([]);
  });

  describe('on a relay shared by two organisations', () => {
    let orgB: TestOrg;
    let powerpackA: string;
    let powerpackB: string;

    beforeAll(async () => {
      orgB = await seedOrg(db, { name: 'Bravo Plumbing', sender: B_SENDER });
      // Bravo has an admin of its own; its Powerpack is the operator's to set.
      await signedInUser(relay.app, db, {
        orgId: orgB.orgId,
        email: 'bea@bravo.test',
        role: 'admin',
        now: relay.clock(),
      });
      powerpackA = fake.powerpacks.create('Acme Dental');
      powerpackB = fake.powerpacks.create('Bravo Plumbing');
      await setPowerpack(orgB.orgId, powerpackB);
      fake.numbers.rent(RENTED_FOR_B);
      fake.powerpacks.add(powerpackB, RENTED_FOR_B);
      fake.numbers.rent(B_SENDER);
      fake.numbers.rent('+12025550162');
    });

    it("refuses org A's admin a number the operator rents for org B (409 NUMBER_ASSIGNED_BY_OPERATOR), asking Plivo nothing and storing nothing", async () => {
      const before = await counts();
      const errors: unknown[] = [];
      // Rented for B, registered by B, rented for nobody, not on the account: one answer, no probe.
      for (const number of [RENTED_FOR_B, B_SENDER, '+12025550162', '+12025550163']) {
        const asked = await askedDuring(async () => {
          const answer = await post(adminA.auth, number);
          expect(answer.statusCode, answer.body).toBe(409);
          errors.push(answer.json().error);
        });
        expect(asked).toEqual([]);
      }
      expect(new Set(errors.map((e) => JSON.stringify(e))).size).toBe(1);
      expect(errors[0]).toMatchObject({ code: 'NUMBER_ASSIGNED_BY_OPERATOR' });
      const { message } = errors[0] as { message: string };
      expect(message).toContain('several organisations');
      expect(message).toContain('npm run cli -- number add');
      expect(message).toContain('plivoPowerpackUuid');
      expect(await stored(RENTED_FOR_B)).toEqual([]);
      expect(await stored(B_SENDER)).toEqual([{ org_id: orgB.orgId }]);
      expect(await counts()).toEqual(before);
    });

    it("does not count org B's Powerpack or the relay's default Powerpack as org A's own", async () => {
      fake.numbers.rent('+12025550164');
      fake.powerpacks.add(relayPowerpack, '+12025550164');
      for (const [powerpack, number] of [
        [powerpackB, RENTED_FOR_B],
        [relayPowerpack, '+12025550164'],
      ] as const) {
        await setPowerpack(orgA.orgId, powerpack);
        const asked = await askedDuring(async () => {
          const answer = await post(adminA.auth, number);
          expect(answer.statusCode, answer.body).toBe(409);
          expect(answer.json().error.code).toBe('NUMBER_ASSIGNED_BY_OPERATOR');
        });
        expect(asked).toEqual([]);
        expect(await stored(number)).toEqual([]);
      }
    });

    it("adds a number of org A's own Powerpack (201), asking Plivo for that Powerpack and its number pool", async () => {
      await setPowerpack(orgA.orgId, powerpackA);
      fake.numbers.rent('+12025550165');
      fake.powerpacks.add(powerpackA, '+12025550165');
      const asked = await askedDuring(async () => {
        const answer = await post(adminA.auth, '(202) 555-0165');
        expect(answer.statusCode, answer.body).toBe(201);
        expect(answer.json()).toMatchObject({ e164: '+12025550165', numberType: 'long_code' });
      });
      expect(asked).toEqual([
        `GET /v1/Account/${PLIVO.authId}/Powerpack/${powerpackA}/`,
        `GET /v1/Account/${PLIVO.authId}/NumberPool/${fake.powerpacks.poolUuidOf(powerpackA)}/Number/12025550165/`,
        accountLookup('12025550165'),
      ]);
      expect(await stored('+12025550165')).toEqual([{ org_id: orgA.orgId }]);
    });

    it("refuses a number outside org A's Powerpack (422 NUMBER_NOT_IN_POWERPACK), in org B's Powerpack or only on the account, storing nothing", async () => {
      await setPowerpack(orgA.orgId, powerpackA);
      const before = await counts();
      const errors: unknown[] = [];
      // Even B's registered number is "not in your Powerpack", never NUMBER_TAKEN: nothing to probe.
      for (const number of [RENTED_FOR_B, '+12025550162', '+12025550166', B_SENDER]) {
        const answer = await post(adminA.auth, number);
        expect(answer.statusCode, answer.body).toBe(422);
        expect(answer.json().error).toMatchObject({
          code: 'NUMBER_NOT_IN_POWERPACK',
          message: expect.stringContaining('Powerpack'),
        });
        errors.push({ ...answer.json().error, message: answer.json().error.message.replace(number, 'N') });
      }
      expect(new Set(errors.map((e) => JSON.stringify(e))).size).toBe(1);
      expect(await stored(RENTED_FOR_B)).toEqual([]);
      expect(await stored('+12025550162')).toEqual([]);
      expect(await counts()).toEqual(before);
    });

    it("answers 409 NUMBER_TAKEN for org B's number only once org A proved it is in its own Powerpack", async () => {
      fake.powerpacks.add(powerpackA, B_SENDER);
      const answer = await post(adminA.auth, B_SENDER);
      expect(answer.statusCode, answer.body).toBe(409);
      expect(answer.json().error.code).toBe('NUMBER_TAKEN');
      expect(answer.body).not.toContain(orgB.orgId);
      expect(await stored(B_SENDER)).toEqual([{ org_id: orgB.orgId }]);
    });

    it('answers 502 SMS_PROVIDER_UNAVAILABLE and stores nothing while Plivo cannot say what the Powerpack holds', async () => {
      fake.numbers.rent('+12025550167');
      fake.powerpacks.add(powerpackA, '+12025550167');
      fake.powerpacks.queuedFailures.push('500');
      const answer = await post(adminA.auth, '+12025550167');
      expect(answer.statusCode, answer.body).toBe(502);
      expect(answer.json().error.code).toBe('SMS_PROVIDER_UNAVAILABLE');
      expect(await stored('+12025550167')).toEqual([]);
    });

    it('on the sandbox network, which has no Powerpacks, cannot prove a number is org A’s (422, saying so)', async () => {
      const answer = await post(adminA.auth, '+12025550168', relay.app);
      expect(answer.statusCode, answer.body).toBe(422);
      expect(answer.json().error).toMatchObject({
        code: 'NUMBER_NOT_IN_POWERPACK',
        message: expect.stringContaining('no Powerpacks'),
      });
      expect(await stored('+12025550168')).toEqual([]);
    });

    it('lets the operator add a number for org B with `npm run cli -- number add` after the account check alone', async () => {
      const config = testConfig({
        smsProvider: 'plivo',
        plivo: { ...PLIVO, apiUrl: fake.baseUrl, powerpackUuid: null },
      });
      const add = (number: string) =>
        cliOn({ db, config }, 'number', 'add', '--org', orgB.orgId, '--number', number, '--json');
      let added = { code: -1, out: '' };
      const asked = await askedDuring(async () => {
        added = await add(RENTED_FOR_B);
      });
      expect(added.code, added.out).toBe(0);
      expect(asked).toEqual([accountLookup(RENTED_FOR_B.slice(1))]);
      expect(await stored(RENTED_FOR_B)).toEqual([{ org_id: orgB.orgId }]);
      const refused = await add('+12025550169');
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.out).error.code).toBe('NUMBER_NOT_OWNED');
    });
  });
});
