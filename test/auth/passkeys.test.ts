import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import {
  seedOrg,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts';

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
const PASSWORD = TEST_PASSWORD;
const ORIGIN = 'http://relay.test';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function addUser(email: string): Promise<string> {
  return testUser(db, { orgId: org.orgId, email, now });
}

async function login(email: string) {
  return relay.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD } });
}

async function post(url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) {
  return relay.app.inject({ method: 'POST', url, payload, headers });
}

/** Signs in with the password (no second factor yet) and registers a new software passkey. */
async function registerPasskey(email: string) {
  const signedIn = await login(email);
  expect(signedIn.statusCode, signedIn.body).toBe(201);
  const { accessToken } = signedIn.json() as { accessToken: string };
  const options = await post('/v1/auth/passkeys/options', {}, bearer(accessToken));
  expect(options.statusCode, options.body).toBe(200);
  const creation = options.json() as {
    challenge: string;
    rp: { id: string; name: string };
    user: { id: string; name: string };
    authenticatorSelection: { userVerification: string };
  };
  expect(creation.rp.id).toBe('relay.test');
  expect(creation.user.name).toBe(email);
  expect(creation.authenticatorSelection.userVerification).toBe('preferred');
  const authenticator = new SoftwareAuthenticator(ORIGIN);
  const created = await post(
    '/v1/auth/passkeys',
    { response: authenticator.register(creation) },
    bearer(accessToken),
  );
  expect(created.statusCode, created.body).toBe(201);
  return { authenticator, accessToken, passkeyId: (created.json() as { id: string }).id };
}

async function secondFactorLogin(email: string, authenticator: SoftwareAuthenticator, overrides = {}) {
  const step1 = await login(email);
  expect(step1.json()).toMatchObject({ mfaRequired: true, factors: ['passkey'] });
  const { mfaToken } = step1.json() as { mfaToken: string };
  const options = await post('/v1/auth/mfa/passkey/options', { mfaToken });
  expect(options.statusCode, options.body).toBe(200);
  const request = options.json() as { challenge: string; rpId: string; allowCredentials: { id: string }[] };
  return {
    mfaToken,
    request,
    answer: await post('/v1/auth/mfa/passkey', {
      mfaToken,
      response: authenticator.assert(request, overrides),
    }),
  };
}

async function passwordless(authenticator: SoftwareAuthenticator, overrides = {}, email?: string) {
  const options = await post('/v1/auth/passkey/options', email === undefined ? {} : { email });
  expect(options.statusCode, options.body).toBe(200);
  const request = options.json() as { challenge: string; userVerification: string };
  expect(request.userVerification).toBe('required');
  const response = authenticator.assert(request, overrides);
  return { request, response, answer: await post('/v1/auth/passkey', { response }) };
}

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('passkeys (WebAuthn)', () => {
  it('registers a passkey, lists it, and then requires it after the password', async () => {
    await addUser('pk-2fa@example.com');
    const { authenticator, accessToken, passkeyId } = await registerPasskey('pk-2fa@example.com');
    const list = await relay.app.inject({
      method: 'GET',
      url: '/v1/auth/passkeys',
      headers: bearer(accessToken),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({
      passkeys: [{ id: passkeyId, credentialId: authenticator.id, transports: ['internal'] }],
    });
    // Registering the same authenticator again is excluded by the options.
    const again = await post('/v1/auth/passkeys/options', {}, bearer(accessToken));
    expect((again.json() as { excludeCredentials: { id: string }[] }).excludeCredentials).toEqual([
      expect.objectContaining({ id: authenticator.id }),
    ]);

    advance(60_000);
    const { request, answer } = await secondFactorLogin('pk-2fa@example.com', authenticator);
    expect(request.rpId).toBe('relay.test');
    expect(request.allowCredentials.map((c) => c.id)).toEqual([authenticator.id]);
    expect(answer.statusCode, answer.body).toBe(201);
    const me = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer((answer.json() as { accessToken: string }).accessToken),
    });
    expect(me.statusCode, me.body).toBe(200);
    const [row] = await db.query<{ counter: string }>('SELECT counter FROM passkeys WHERE id = $1', [
      passkeyId,
    ]);
    expect(Number(row?.counter)).toBe(authenticator.counter);
    const events = await db.query<{ kind: string; detail: Record<string, unknown> }>(
      `SELECT e.kind, e.detail FROM auth_events e JOIN users u ON u.id = e.user_id
        WHERE u.email = 'pk-2fa@example.com' ORDER BY e.id`,
    );
    expect(events.map((e) => e.kind)).toContain('mfa_enrolled');
    expect(events.at(-1)).toMatchObject({ kind: 'sign_in', detail: { method: 'password+passkey' } });
  });

  it('signs in without a password when the user was verified, and refuses otherwise', async () => {
    const userId = await addUser('pk-nopw@example.com');
    const { authenticator } = await registerPasskey('pk-nopw@example.com');
    const { answer } = await passwordless(authenticator, {}, 'pk-nopw@example.com');
    expect(answer.statusCode, answer.body).toBe(201);
    const [session] = await db.query<{ user_id: string; stage: string }>(
      'SELECT user_id, stage FROM auth_sessions WHERE id = $1',
      [(answer.json() as { sessionId: string }).sessionId],
    );
    expect(session).toEqual({ user_id: userId, stage: 'full' });
    // Discoverable: no email at all.
    const discoverable = await passwordless(authenticator);
    expect(discoverable.answer.statusCode, discoverable.answer.body).toBe(201);
    // User presence alone is not enough without a password.
    const presenceOnly = await passwordless(authenticator, { userVerified: false });
    expect(presenceOnly.answer.statusCode).toBe(401);
    expect(presenceOnly.answer.json()).toMatchObject({ error: { code: 'PASSKEY_REFUSED' } });
  });

  it('refuses an assertion made for another origin', async () => {
    await addUser('pk-origin@example.com');
    const { authenticator } = await registerPasskey('pk-origin@example.com');
    const phished = await passwordless(authenticator, { origin: 'https://relay.test.evil.example' });
    expect(phished.answer.statusCode).toBe(401);
    const second = await secondFactorLogin('pk-origin@example.com', authenticator, {
      origin: 'http://evil.test',
    });
    expect(second.answer.statusCode).toBe(401);
    // Registration from the wrong origin is refused too.
    const fresh = await passwordless(authenticator);
    expect(fresh.answer.statusCode, fresh.answer.body).toBe(201);
    const token = (fresh.answer.json() as { accessToken: string }).accessToken;
    const creation = (await post('/v1/auth/passkeys/options', {}, bearer(token))).json() as Parameters<
      SoftwareAuthenticator['register']
    >[0];
    const other = new SoftwareAuthenticator(ORIGIN);
    const wrong = await post(
      '/v1/auth/passkeys',
      { response: other.register(creation, { origin: 'http://evil.test' }) },
      bearer(token),
    );
    expect(wrong.statusCode).toBe(422);
    expect(await db.query('SELECT 1 FROM passkeys WHERE credential_id = $1', [other.id])).toHaveLength(0);
  });

  it('refuses a replayed assertion (the challenge is single-use)', async () => {
    await addUser('pk-replay@example.com');
    const { authenticator } = await registerPasskey('pk-replay@example.com');
    const first = await passwordless(authenticator);
    expect(first.answer.statusCode, first.answer.body).toBe(201);
    const replay = await post('/v1/auth/passkey', { response: first.response });
    expect(replay.statusCode).toBe(401);
    // A fresh assertion over the used challenge, with a higher counter, is refused as well.
    const resigned = await post('/v1/auth/passkey', { response: authenticator.assert(first.request) });
    expect(resigned.statusCode).toBe(401);
    // Second factor: the MFA token and the challenge both work once.
    advance(60_000);
    const mfa = await secondFactorLogin('pk-replay@example.com', authenticator);
    expect(mfa.answer.statusCode, mfa.answer.body).toBe(201);
    const again = await post('/v1/auth/mfa/passkey', {
      mfaToken: mfa.mfaToken,
      response: authenticator.assert(mfa.request),
    });
    expect(again.statusCode).toBe(401);
  });

  it('refuses a signature counter that goes backwards (a cloned authenticator)', async () => {
    await addUser('pk-clone@example.com');
    const { authenticator, passkeyId } = await registerPasskey('pk-clone@example.com');
    for (let i = 0; i < 3; i += 1) expect((await passwordless(authenticator)).answer.statusCode).toBe(201);
    expect(authenticator.counter).toBe(3);
    const stale = await passwordless(authenticator, { counter: 2 });
    expect(stale.answer.statusCode).toBe(401);
    const same = await passwordless(authenticator, { counter: 3 });
    expect(same.answer.statusCode).toBe(401);
    const [row] = await db.query<{ counter: string }>('SELECT counter FROM passkeys WHERE id = $1', [
      passkeyId,
    ]);
    expect(Number(row?.counter)).toBe(3);
    const [event] = await db.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM auth_events WHERE kind = 'sign_in_failed' AND detail->>'passkeyId' = $1 ORDER BY id DESC LIMIT 1`,
      [passkeyId],
    );
    expect(event?.detail).toMatchObject({ factor: 'passkey', reason: 'counter_regression' });
    expect((await passwordless(authenticator)).answer.statusCode).toBe(201);
  });

  it('no longer accepts a deleted passkey', async () => {
    await addUser('pk-delete@example.com');
    const { authenticator, accessToken, passkeyId } = await registerPasskey('pk-delete@example.com');
    const other = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/auth/passkeys/${passkeyId}`,
      headers: org.auth,
    });
    expect(other.statusCode).toBe(400); // an API key has no passkeys
    const deleted = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/auth/passkeys/${passkeyId}`,
      headers: bearer(accessToken),
    });
    expect(deleted.statusCode, deleted.body).toBe(204);
    const gone = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/auth/passkeys/${passkeyId}`,
      headers: bearer(accessToken),
    });
    expect(gone.statusCode).toBe(404);
    expect((await passwordless(authenticator)).answer.statusCode).toBe(401);
    // Without a second factor left, the password alone signs in again.
    expect((await login('pk-delete@example.com')).statusCode).toBe(201);
  });

  it('refuses to remove the last second factor where the org requires one', async () => {
    await addUser('pk-last@example.com');
    const { accessToken, passkeyId } = await registerPasskey('pk-last@example.com');
    await db.query(
      `UPDATE orgs SET settings = settings || '{"auth":{"requireSecondFactor":true}}' WHERE id = $1`,
      [org.orgId],
    );
    try {
      const refused = await relay.app.inject({
        method: 'DELETE',
        url: `/v1/auth/passkeys/${passkeyId}`,
        headers: bearer(accessToken),
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('LAST_SECOND_FACTOR');
      const kept = await db.query('SELECT 1 FROM passkeys WHERE id = $1', [passkeyId]);
      expect(kept).toHaveLength(1);
    } finally {
      await db.query(`UPDATE orgs SET settings = settings - 'auth' WHERE id = $1`, [org.orgId]);
    }
  });

  it('counts a passkey as the second factor the org policy requires', async () => {
    await addUser('pk-policy@example.com');
    await db.query(
      `UPDATE orgs SET settings = settings || '{"auth":{"requireSecondFactor":true}}' WHERE id = $1`,
      [org.orgId],
    );
    try {
      const signedIn = await login('pk-policy@example.com');
      const { accessToken } = signedIn.json() as { accessToken: string };
      const blocked = await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) });
      expect(blocked.statusCode).toBe(403);
      const options = await post('/v1/auth/passkeys/options', {}, bearer(accessToken));
      expect(options.statusCode, options.body).toBe(200);
      const authenticator = new SoftwareAuthenticator(ORIGIN);
      const created = await post(
        '/v1/auth/passkeys',
        {
          response: authenticator.register(
            options.json() as Parameters<SoftwareAuthenticator['register']>[0],
          ),
        },
        bearer(accessToken),
      );
      expect(created.statusCode, created.body).toBe(201);
      const after = await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) });
      expect(after.statusCode, after.body).toBe(200);
      const viaPasskey = await passwordless(authenticator);
      expect(viaPasskey.answer.statusCode).toBe(201);
      expect(viaPasskey.answer.json()).not.toHaveProperty('secondFactorEnrolmentRequired');
    } finally {
      await db.query(`UPDATE orgs SET settings = '{}' WHERE id = $1`, [org.orgId]);
    }
  });
});
