import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../server/auth/api-keys.ts';
import { passwordProblem } from '../../server/auth/passwords.ts';
import { newTotpSecret, totpCode } from '../../server/auth/totp.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  seedOrg,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
const PASSWORD = TEST_PASSWORD;

async function addUser(email: string, role = 'rep'): Promise<string> {
  return testUser(db, { orgId: org.orgId, email, role, now });
}

async function login(email: string, password = PASSWORD) {
  return relay.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
}

async function signIn(email: string) {
  const response = await login(email);
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { accessToken: string; refreshToken: string; sessionId: string };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('password policy', () => {
  it('refuses passwords under 12 characters, common ones and the email itself', () => {
    expect(passwordProblem('short1!')).toBe('TOO_SHORT');
    expect(passwordProblem('password1234')).toBe('COMMON_PASSWORD');
    expect(passwordProblem('Qwertyuiop123')).toBe('COMMON_PASSWORD');
    expect(passwordProblem('aaaaaaaaaaaaaa')).toBe('COMMON_PASSWORD');
    expect(passwordProblem('jane.doe.smith', { email: 'jane.doe.smith@example.com' })).toBe(
      'COMMON_PASSWORD',
    );
    expect(passwordProblem(PASSWORD)).toBeNull();
  });

  it('lets an invited user choose a password through the single-use mailed link', async () => {
    const invited = await relay.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: org.auth,
      payload: { email: 'invited@example.com', role: 'rep' },
    });
    expect(invited.statusCode, invited.body).toBe(201);
    const [mail] = await db.query<{ body: string }>(
      `SELECT body FROM sandbox_mail WHERE to_address = 'invited@example.com'`,
    );
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.body ?? '')?.[1] ?? '';
    const weak = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token, password: 'password1234' },
    });
    expect(weak.statusCode).toBe(422);
    expect(weak.json()).toMatchObject({ error: { code: 'COMMON_PASSWORD' } });
    const set = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token, password: PASSWORD },
    });
    expect(set.statusCode, set.body).toBe(200);
    const reused = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token, password: `${PASSWORD} again` },
    });
    expect(reused.statusCode).toBe(400);
    expect((await login('invited@example.com')).statusCode).toBe(201);
    const page = await relay.app.inject({ method: 'GET', url: '/sandbox/mail' });
    expect(page.body).toContain('invited@example.com');
  });
});

describe('sign-in, second factor and sessions', () => {
  it('signs in with email and password and the access token works like an API key', async () => {
    await addUser('rep1@example.com');
    const tokens = await signIn('rep1@example.com');
    const me = await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokens.accessToken) });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ orgId: org.orgId, role: 'rep' });
    const wrong = await login('rep1@example.com', 'not the right password');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'INVALID_CREDENTIALS' } });
  });

  it('requires a TOTP code after enrolment and accepts a recovery code once', async () => {
    await addUser('mfa@example.com');
    const first = await signIn('mfa@example.com');
    const enrol = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/enrol',
      headers: bearer(first.accessToken),
    });
    expect(enrol.statusCode, enrol.body).toBe(201);
    const { secret, otpauthUri } = enrol.json() as { secret: string; otpauthUri: string };
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const confirm = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/confirm',
      headers: bearer(first.accessToken),
      payload: { code: totpCode(secret, now) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    const { recoveryCodes } = confirm.json() as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);

    advance(60_000);
    const step1 = await login('mfa@example.com');
    expect(step1.json()).toMatchObject({ mfaRequired: true });
    const { mfaToken } = step1.json() as { mfaToken: string };
    const bad = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken, code: '000000' },
    });
    expect(bad.statusCode).toBe(401);
    const good = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken, code: totpCode(secret, now) },
    });
    expect(good.statusCode, good.body).toBe(201);
    const again = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken, code: totpCode(secret, now) },
    });
    expect(again.statusCode).toBe(401);

    const recovery = recoveryCodes[0] as string;
    for (const expected of [201, 401]) {
      const { mfaToken: token } = (await login('mfa@example.com')).json() as { mfaToken: string };
      const answer = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken: token, recoveryCode: recovery },
      });
      expect(answer.statusCode, answer.body).toBe(expected);
    }
  });

  it('stores TOTP secrets sealed, and seals a plaintext one from before on its next use', async () => {
    const [enrolled] = await db.query<{ totp_secret: string }>(
      `SELECT totp_secret FROM users WHERE email = 'mfa@example.com'`,
    );
    expect(enrolled?.totp_secret).toMatch(/^v1:[0-9a-f]{8}:/);

    const userId = await addUser('legacy-mfa@example.com');
    const secret = newTotpSecret();
    await db.query('UPDATE users SET totp_secret = $2, totp_enabled_at = $3 WHERE id = $1', [
      userId,
      secret,
      now,
    ]);
    advance(60_000);
    const { mfaToken } = (await login('legacy-mfa@example.com')).json() as { mfaToken: string };
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken, code: totpCode(secret, now) },
    });
    expect(answer.statusCode, answer.body).toBe(201);
    const [after] = await db.query<{ totp_secret: string }>('SELECT totp_secret FROM users WHERE id = $1', [
      userId,
    ]);
    expect(after?.totp_secret).toMatch(/^v1:/);
    expect(after?.totp_secret).not.toContain(secret);
    // A sealed secret copied to another user does not open there.
    const otherId = await addUser('copycat@example.com');
    await db.query('UPDATE users SET totp_secret = $2, totp_enabled_at = $3 WHERE id = $1', [
      otherId,
      after?.totp_secret,
      now,
    ]);
    advance(60_000);
    const copied = (await login('copycat@example.com')).json() as { mfaToken: string };
    const refused = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: copied.mfaToken, code: totpCode(secret, now) },
    });
    expect(refused.statusCode).toBe(401);
  });

  it('confines a session to enrolment when the org requires a second factor', async () => {
    await addUser('policy@example.com');
    await db.query(
      `UPDATE orgs SET settings = settings || '{"auth":{"requireSecondFactor":true}}' WHERE id = $1`,
      [org.orgId],
    );
    try {
      const tokens = await signIn('policy@example.com');
      const me = await relay.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: bearer(tokens.accessToken),
      });
      expect(me.statusCode).toBe(403);
      expect(me.json()).toMatchObject({ error: { code: 'SECOND_FACTOR_ENROLMENT_REQUIRED' } });
      const enrol = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/totp/enrol',
        headers: bearer(tokens.accessToken),
      });
      const { secret } = enrol.json() as { secret: string };
      await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/totp/confirm',
        headers: bearer(tokens.accessToken),
        payload: { code: totpCode(secret, now) },
      });
      const after = await relay.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: bearer(tokens.accessToken),
      });
      expect(after.statusCode, after.body).toBe(200);
    } finally {
      await db.query(`UPDATE orgs SET settings = '{}' WHERE id = $1`, [org.orgId]);
    }
  });

  it('rotates refresh tokens and revokes the whole family when an old one is reused', async () => {
    await addUser('refresh@example.com');
    const first = await signIn('refresh@example.com');
    const second = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    expect(second.statusCode, second.body).toBe(200);
    const rotated = second.json() as { accessToken: string; refreshToken: string };
    expect(rotated.refreshToken).not.toBe(first.refreshToken);
    const old = await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(first.accessToken) });
    expect(old.statusCode).toBe(401);
    const reuse = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    expect(reuse.statusCode).toBe(401);
    const newest = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(rotated.accessToken),
    });
    expect(newest.statusCode).toBe(401);
    const third = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: rotated.refreshToken },
    });
    expect(third.statusCode).toBe(401);
  });

  it('ends a session after the idle timeout and after the absolute timeout', async () => {
    await addUser('idle@example.com');
    const tokens = await signIn('idle@example.com');
    advance(31 * 60_000);
    const refreshed = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: tokens.refreshToken },
    });
    expect(refreshed.statusCode).toBe(401);

    let current = await signIn('idle@example.com');
    const start = now.getTime();
    let endedAfterMs = 0;
    for (let i = 0; i < 90; i += 1) {
      advance(9 * 60_000); // active every 9 minutes: never idle
      const r = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: current.refreshToken },
      });
      if (r.statusCode !== 200) {
        endedAfterMs = now.getTime() - start;
        break;
      }
      current = r.json() as typeof current;
    }
    expect(endedAfterMs).toBeGreaterThanOrEqual(12 * 3_600_000);
    expect(endedAfterMs).toBeLessThan(12 * 3_600_000 + 10 * 60_000);
  });

  it('lists own sessions and ends one', async () => {
    await addUser('multi@example.com');
    const laptop = await signIn('multi@example.com');
    const phone = await signIn('multi@example.com');
    const list = await relay.app.inject({
      method: 'GET',
      url: '/v1/sessions',
      headers: bearer(phone.accessToken),
    });
    expect((list.json() as { sessions: unknown[] }).sessions).toHaveLength(2);
    const end = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${laptop.sessionId}`,
      headers: bearer(phone.accessToken),
    });
    expect(end.statusCode).toBe(204);
    const dead = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(laptop.accessToken),
    });
    expect(dead.statusCode).toBe(401);
  });
});

describe('deactivation', () => {
  it("stops the user's session and bound API key on the very next request", async () => {
    const userId = await addUser('leaver@example.com');
    const tokens = await signIn('leaver@example.com');
    const key = await createApiKey(db, { orgId: org.orgId, role: 'rep', userId, name: 'leaver key' });
    for (const token of [tokens.accessToken, key.key]) {
      const ok = await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
      expect(ok.statusCode).toBe(200);
    }
    const off = await relay.app.inject({
      method: 'POST',
      url: `/v1/users/${userId}/deactivate`,
      headers: org.auth,
    });
    expect(off.statusCode, off.body).toBe(200);
    for (const token of [tokens.accessToken, key.key]) {
      const after = await relay.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
      expect(after.statusCode).toBe(401);
    }
    const refresh = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: tokens.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    expect((await login('leaver@example.com')).statusCode).toBe(401);
    const events = await db.query<{ kind: string }>(`SELECT kind FROM auth_events WHERE user_id = $1`, [
      userId,
    ]);
    expect(events.map((e) => e.kind)).toContain('deactivated');
    await expect(db.query('DELETE FROM auth_events')).rejects.toThrow(/append-only/);
  });
});

describe('custom roles', () => {
  it('grants exactly the permissions a custom role is made of', async () => {
    const created = await relay.app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: org.auth,
      payload: { name: 'number_viewer', permissions: ['numbers.view'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    await addUser('viewer@example.com', 'number_viewer');
    const tokens = await signIn('viewer@example.com');
    const numbers = await relay.app.inject({
      method: 'GET',
      url: '/v1/numbers',
      headers: bearer(tokens.accessToken),
    });
    expect(numbers.statusCode).toBe(200);
    const users = await relay.app.inject({
      method: 'GET',
      url: '/v1/users',
      headers: bearer(tokens.accessToken),
    });
    expect(users.statusCode).toBe(403);
    const rep = await signIn('rep1@example.com');
    const escalate = await relay.app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: bearer(rep.accessToken),
      payload: { name: 'sneaky', permissions: ['org.manage'] },
    });
    expect(escalate.statusCode).toBe(403);
  });
});

describe('throttling', () => {
  it('locks an account after 5 failures with Retry-After, whatever the password', async () => {
    await addUser('target@example.com');
    for (let i = 0; i < 5; i += 1)
      expect((await login('target@example.com', 'wrong password!')).statusCode).toBe(401);
    const locked = await login('target@example.com');
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ error: { code: 'TOO_MANY_ATTEMPTS' } });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    advance(16 * 60_000);
    expect((await login('target@example.com')).statusCode).toBe(201);
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    const unknown = await login('ghost@example.com', 'whatever password');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual((await login('rep1@example.com', 'whatever password')).json());
  });
});
