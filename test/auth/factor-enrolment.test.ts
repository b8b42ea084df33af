import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_AUTH_MS } from '../../server/auth/recent-auth.ts';
import { totpCode } from '../../server/auth/totp.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  eventually,
  seedOrg,
  signedInUser,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts';

// Issue #13, finding 5: a stolen access token must not be able to plant a second factor that
// outlives the password reset the real owner does once they notice.

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
const PASSWORD = TEST_PASSWORD;
const NEW_PASSWORD = 'a brand new passphrase 2026';
const ORIGIN = 'http://relay.test';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const post = (url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  relay.app.inject({ method: 'POST', url, payload, headers });

async function addUser(email: string): Promise<string> {
  return testUser(db, { orgId: org.orgId, email, now });
}

/** A new rep of the test org, for signedInUser. */
const rep = (email: string) => ({ orgId: org.orgId, email, role: 'rep', now });

async function signIn(email: string): Promise<string> {
  const response = await post('/v1/auth/login', { email, password: PASSWORD });
  expect(response.statusCode, response.body).toBe(201);
  return (response.json() as { accessToken: string }).accessToken;
}

async function plantPasskey(accessToken: string) {
  const options = await post('/v1/auth/passkeys/options', {}, bearer(accessToken));
  if (options.statusCode !== 200) return { options, created: null, authenticator: null };
  const authenticator = new SoftwareAuthenticator(ORIGIN);
  const created = await post(
    '/v1/auth/passkeys',
    { response: authenticator.register(options.json()) },
    bearer(accessToken),
  );
  return { options, created, authenticator };
}

async function passwordless(authenticator: SoftwareAuthenticator) {
  const options = await post('/v1/auth/passkey/options', {});
  return post('/v1/auth/passkey', { response: authenticator.assert(options.json()) });
}

async function mailsTo(email: string) {
  return db.query<{ subject: string; body: string }>(
    'SELECT subject, body FROM sandbox_mail WHERE to_address = $1 ORDER BY id',
    [email],
  );
}

async function resetPassword(email: string) {
  const asked = await post('/v1/auth/password-reset', { email });
  expect(asked.statusCode, asked.body).toBe(202);
  // The mail goes out after the answer (no timing oracle): wait for it.
  const mail = await eventually(async () => (await mailsTo(email)).find((m) => m.subject.includes('Reset')));
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.body ?? '')?.[1] ?? '';
  const confirmed = await post('/v1/auth/password-reset/confirm', { token, password: NEW_PASSWORD });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return confirmed.json() as { status: string; removedFactors: { factor: string }[] };
}

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('adding a second factor needs a recent sign-in', () => {
  it('refuses passkey registration from a session signed in 6 minutes ago until it re-authenticates', async () => {
    const { accessToken: token } = await signedInUser(relay.app, db, rep('stale-passkey@example.com'));
    advance(6 * 60_000);
    const { options } = await plantPasskey(token);
    expect(options.statusCode, options.body).toBe(403);
    expect(options.json()).toMatchObject({ error: { code: 'REAUTH_REQUIRED' } });

    expect((await post('/v1/auth/reauth', { password: PASSWORD }, bearer(token))).statusCode).toBe(200);
    const { created } = await plantPasskey(token);
    expect(created?.statusCode, created?.body).toBe(201);
  });

  it('refuses to verify a registration whose proof went stale between options and verify', async () => {
    const { accessToken: token } = await signedInUser(relay.app, db, rep('slow-passkey@example.com'));
    advance(RECENT_AUTH_MS - 60_000);
    const options = await post('/v1/auth/passkeys/options', {}, bearer(token));
    expect(options.statusCode).toBe(200);
    // The challenge is two minutes old and still valid; the sign-in proof is not.
    advance(2 * 60_000);
    const created = await post(
      '/v1/auth/passkeys',
      { response: new SoftwareAuthenticator(ORIGIN).register(options.json()) },
      bearer(token),
    );
    expect(created.statusCode, created.body).toBe(403);
    expect(created.json()).toMatchObject({ error: { code: 'REAUTH_REQUIRED' } });
    expect(
      await db.query('SELECT 1 FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.email = $1', [
        'slow-passkey@example.com',
      ]),
    ).toHaveLength(0);
  });

  it('refuses TOTP enrolment from a session signed in 6 minutes ago until it re-authenticates', async () => {
    const { userId, accessToken: token } = await signedInUser(relay.app, db, rep('stale-totp@example.com'));
    advance(6 * 60_000);
    const refused = await post('/v1/auth/totp/enrol', {}, bearer(token));
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'REAUTH_REQUIRED' } });
    const [row] = await db.query<{ totp_secret: string | null }>(
      'SELECT totp_secret FROM users WHERE id = $1',
      [userId],
    );
    expect(row?.totp_secret).toBeNull();

    expect((await post('/v1/auth/reauth', { password: PASSWORD }, bearer(token))).statusCode).toBe(200);
    expect((await post('/v1/auth/totp/enrol', {}, bearer(token))).statusCode).toBe(201);
  });
});

describe('a password reset removes recently added factors', () => {
  it('a passkey planted with a stolen session stops working after the owner resets the password, and the owner is told', async () => {
    await addUser('victim@example.com');
    // The thief holds a fresh access token (stolen right after sign-in) and plants a passkey.
    const stolen = await signIn('victim@example.com');
    const { created, authenticator } = await plantPasskey(stolen);
    expect(created?.statusCode, created?.body).toBe(201);
    if (authenticator === null) throw new Error('no passkey planted');
    expect((await passwordless(authenticator)).statusCode).toBe(201);

    advance(60 * 60_000);
    const result = await resetPassword('victim@example.com');
    expect(result.removedFactors).toEqual([expect.objectContaining({ factor: 'passkey' })]);

    const after = await passwordless(authenticator);
    expect(after.statusCode, after.body).toBe(401);
    // The stolen session is gone too.
    expect(
      (await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(stolen) })).statusCode,
    ).toBe(401);

    const notice = (await mailsTo('victim@example.com')).find((m) =>
      m.subject.includes('password was changed'),
    );
    expect(notice?.body).toContain('passkey');
    expect(notice?.body).not.toMatch(/token=/);
    const events = await db.query<{ kind: string; detail: { reason?: string } }>(
      `SELECT e.kind, e.detail FROM auth_events e JOIN users u ON u.id = e.user_id
        WHERE u.email = 'victim@example.com' AND e.kind = 'passkey_removed'`,
    );
    expect(events).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ reason: 'password_reset' }) }),
    ]);
  });

  it('removes an authenticator app enrolled within 24 hours, and keeps factors older than that', async () => {
    const { userId, accessToken: token } = await signedInUser(relay.app, db, rep('mixed@example.com'));
    const { created, authenticator } = await plantPasskey(token);
    expect(created?.statusCode).toBe(201);
    if (authenticator === null) throw new Error('no passkey');
    // The passkey is 25 hours old by the time the authenticator app is added.
    advance(25 * 3_600_000);
    // With a passkey the password alone only asks for the second factor; sign in with the passkey.
    const step1 = await post('/v1/auth/login', { email: 'mixed@example.com', password: PASSWORD });
    expect(step1.json()).toMatchObject({ mfaRequired: true });
    const session = (await passwordless(authenticator)).json() as { accessToken: string };
    const enrol = await post('/v1/auth/totp/enrol', {}, bearer(session.accessToken));
    expect(enrol.statusCode, enrol.body).toBe(201);
    const { secret } = enrol.json() as { secret: string };
    const confirm = await post(
      '/v1/auth/totp/confirm',
      { code: totpCode(secret, now) },
      bearer(session.accessToken),
    );
    expect(confirm.statusCode, confirm.body).toBe(200);

    advance(3_600_000);
    const result = await resetPassword('mixed@example.com');
    expect(result.removedFactors.map((f) => f.factor)).toEqual(['totp']);
    const [row] = await db.query<{ totp_enabled_at: Date | null; totp_secret: string | null; codes: number }>(
      `SELECT totp_enabled_at, totp_secret, (SELECT count(*)::int FROM recovery_codes WHERE user_id = $1) AS codes
         FROM users WHERE id = $1`,
      [userId],
    );
    expect(row).toEqual({ totp_enabled_at: null, totp_secret: null, codes: 0 });
    // The old passkey still works.
    expect((await passwordless(authenticator)).statusCode).toBe(201);
  });
});
