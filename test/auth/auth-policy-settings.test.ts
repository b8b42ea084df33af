// The identity policies an admin sets from the CLI (`org settings --set auth.<name>`), read where
// sign-in reads them: a second factor required, a sign-in in every browser session, the timeouts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthSettings } from '../../server/auth/auth-settings.ts';
import { ApiError } from '../../server/errors.ts';
import { readOrgSettings, setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  seedOrg,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

let relay: TestRelay;
let org: TestOrg;
let users = 0;

beforeAll(async () => {
  relay = await testRelay(await freshPglite());
  org = await seedOrg(relay.db);
  // Another setting beside them, which setting or clearing a policy must leave alone.
  await setOrgSetting(relay.db, org.orgId, 'doubleOptIn', 'true', { actor: 'cli', at: new Date() });
});

afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

const policy = async () => parseAuthSettings(await readOrgSettings(relay.db, org.orgId));

/** A fresh rep's sign-in answer (no second factor enrolled). */
async function signIn(): Promise<{ eachSession?: boolean; body: Record<string, unknown> }> {
  users += 1;
  const email = `rep${users}@acme.test`;
  await testUser(relay.db, { orgId: org.orgId, email, now: relay.clock() });
  const response = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: TEST_PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json() as Record<string, unknown>;
  return { body, eachSession: body.requireSignInEachBrowserSession as boolean | undefined };
}

describe('identity policies from the CLI', () => {
  it('requires a sign-in in every browser session once set, and keeps sessions again once cleared', async () => {
    expect((await signIn()).eachSession).toBe(false);
    await setOrgSetting(relay.db, org.orgId, 'auth.requireSignInEachBrowserSession', 'true', {
      actor: 'cli',
      at: new Date(),
    });
    expect((await policy()).requireSignInEachBrowserSession).toBe(true);
    expect((await signIn()).eachSession).toBe(true);
    await setOrgSetting(relay.db, org.orgId, 'auth.requireSignInEachBrowserSession', null, {
      actor: 'cli',
      at: new Date(),
    });
    expect((await signIn()).eachSession).toBe(false);
    expect(await readOrgSettings(relay.db, org.orgId)).toMatchObject({ doubleOptIn: true, auth: {} });
  });

  it('requires a second factor once set: a sign-in without one must enrol first', async () => {
    await setOrgSetting(relay.db, org.orgId, 'auth.requireSecondFactor', 'true', {
      actor: 'cli',
      at: new Date(),
    });
    const answer = await signIn();
    expect(answer.body).toMatchObject({ secondFactorEnrolmentRequired: true });
    await setOrgSetting(relay.db, org.orgId, 'auth.requireSecondFactor', 'false', {
      actor: 'cli',
      at: new Date(),
    });
    expect((await policy()).requireSecondFactor).toBe(false);
  });

  it('sets the timeouts within their ranges, beside each other', async () => {
    await setOrgSetting(relay.db, org.orgId, 'auth.idleTimeoutMinutes', '45', {
      actor: 'cli',
      at: new Date(),
    });
    await setOrgSetting(relay.db, org.orgId, 'auth.absoluteTimeoutHours', '720', {
      actor: 'cli',
      at: new Date(),
    });
    expect(await policy()).toMatchObject({ idleTimeoutMinutes: 45, absoluteTimeoutHours: 720 });
    await setOrgSetting(relay.db, org.orgId, 'auth.idleTimeoutMinutes', null, {
      actor: 'cli',
      at: new Date(),
    });
    expect(await policy()).toMatchObject({ idleTimeoutMinutes: 30, absoluteTimeoutHours: 720 });
  });

  const refused: Array<[string, string, string, string, RegExp]> = [
    [
      'an unknown policy',
      'auth.rememberMe',
      'true',
      'UNKNOWN_SETTING',
      /identity policies: auth\.idleTimeoutMinutes/,
    ],
    [
      'a yes for a boolean',
      'auth.requireSecondFactor',
      'yes',
      'INVALID_SETTING',
      /must be true or false; got "yes"/,
    ],
    ['an idle timeout of 0', 'auth.idleTimeoutMinutes', '0', 'INVALID_SETTING', /from 1 to 1440; got "0"/],
    ['an idle timeout over a day', 'auth.idleTimeoutMinutes', '1441', 'INVALID_SETTING', /from 1 to 1440/],
    [
      'a fractional timeout',
      'auth.absoluteTimeoutHours',
      '1.5',
      'INVALID_SETTING',
      /whole number from 1 to 720/,
    ],
    ['a timeout in words', 'auth.absoluteTimeoutHours', 'twelve', 'INVALID_SETTING', /got "twelve"/],
  ];

  it.each(refused)(
    'refuses %s with a clear code and changes nothing',
    async (_label, key, value, code, message) => {
      const before = await readOrgSettings(relay.db, org.orgId);
      const error = await setOrgSetting(relay.db, org.orgId, key, value, {
        actor: 'cli',
        at: new Date(),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ statusCode: 400, code });
      expect((error as ApiError).message).toMatch(message);
      expect(await readOrgSettings(relay.db, org.orgId)).toEqual(before);
    },
  );

  it('names the identity policies when a setting is unknown', async () => {
    const error = await setOrgSetting(relay.db, org.orgId, 'requireSecondFactor', 'true', {
      actor: 'cli',
      at: new Date(),
    }).catch((e: unknown) => e);
    expect((error as ApiError).message).toContain('auth.requireSecondFactor');
  });
});
