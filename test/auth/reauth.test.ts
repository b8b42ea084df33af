import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_AUTH_MS, requireRecentAuth } from '../../server/auth/recent-auth.ts';
import { totpCode } from '../../server/auth/totp.ts';
import { ApiError } from '../../server/errors.ts';
import type { Principal } from '../../server/http/access.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  seedOrg,
  signedInUser,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
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

const signIn = (email: string) => signedInUser(relay.app, db, { orgId: org.orgId, email, role: 'rep', now });

const principal = (sessionId: string | null, userId: string | null): Principal => ({
  keyId: sessionId === null ? 'key' : null,
  keyName: null,
  orgId: org.orgId,
  orgName: 'Test org',
  role: 'rep',
  permissions: ['account.self'],
  userId,
  sessionId,
  actor: `user:${userId}`,
  displayName: 'someone',
  expiresAt: null,
});

async function refusal(promise: Promise<void>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
}

const reauth = (token: string, payload: object) =>
  relay.app.inject({
    method: 'POST',
    url: '/v1/auth/reauth',
    headers: { authorization: `Bearer ${token}` },
    payload,
  });

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('recent re-authentication', () => {
  it('counts a fresh sign-in as recent for five minutes, then asks again', async () => {
    const s = await signIn('fresh@example.com');
    expect(await refusal(requireRecentAuth(db, principal(s.sessionId, s.userId), now))).toBeNull();
    advance(RECENT_AUTH_MS + 1_000);
    expect(await refusal(requireRecentAuth(db, principal(s.sessionId, s.userId), now))).toBe(
      'REAUTH_REQUIRED',
    );
  });

  it('a stolen access token alone cannot renew the proof: a wrong password changes nothing', async () => {
    const s = await signIn('stolen@example.com');
    advance(RECENT_AUTH_MS + 1_000);
    const wrong = await reauth(s.accessToken, { password: 'not the password at all' });
    expect(wrong.statusCode, wrong.body).toBe(403);
    expect(wrong.json().error.code).toBe('REAUTH_FAILED');
    expect(await refusal(requireRecentAuth(db, principal(s.sessionId, s.userId), now))).toBe(
      'REAUTH_REQUIRED',
    );
    const right = await reauth(s.accessToken, { password: PASSWORD });
    expect(right.statusCode, right.body).toBe(200);
    expect(right.json().reauthenticatedUntil).toBe(new Date(now.getTime() + RECENT_AUTH_MS).toISOString());
    expect(await refusal(requireRecentAuth(db, principal(s.sessionId, s.userId), now))).toBeNull();
    const [event] = await db.query<{ kind: string }>(
      `SELECT kind FROM auth_events WHERE user_id = $1 AND kind = 'reauthenticated'`,
      [s.userId],
    );
    expect(event?.kind).toBe('reauthenticated');
  });

  it('stops guessing after five wrong passwords', async () => {
    const s = await signIn('guesser@example.com');
    for (let i = 0; i < 5; i++) await reauth(s.accessToken, { password: `guess number ${i} wrong` });
    const locked = await reauth(s.accessToken, { password: PASSWORD });
    expect(locked.statusCode, locked.body).toBe(429);
    expect(locked.json().error.code).toBe('TOO_MANY_ATTEMPTS');
  });

  it('accepts an authenticator code once, and never the same code twice', async () => {
    const s = await signIn('totp@example.com');
    const headers = { authorization: `Bearer ${s.accessToken}` };
    const enrol = await relay.app.inject({ method: 'POST', url: '/v1/auth/totp/enrol', headers });
    const { secret } = enrol.json() as { secret: string };
    const confirm = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/confirm',
      headers,
      payload: { code: totpCode(secret, now) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    advance(RECENT_AUTH_MS + 30_000);
    const code = totpCode(secret, now);
    expect((await reauth(s.accessToken, { code })).statusCode).toBe(200);
    const replay = await reauth(s.accessToken, { code });
    expect(replay.json().error.code).toBe('REAUTH_FAILED');
  });

  it('API keys never count as a recent sign-in', async () => {
    expect(await refusal(requireRecentAuth(db, principal(null, null), now))).toBe('SESSION_REQUIRED');
    const byKey = await reauth(org.key, { password: PASSWORD });
    expect(byKey.statusCode, byKey.body).toBe(400);
    expect(byKey.json().error.code).toBe('NOT_A_SESSION');
  });

  it('asks for exactly one credential', async () => {
    const s = await signIn('both@example.com');
    const both = await reauth(s.accessToken, { password: PASSWORD, code: '123456' });
    expect(both.json().error.code).toBe('CREDENTIAL_REQUIRED');
    const none = await reauth(s.accessToken, {});
    expect(none.json().error.code).toBe('CREDENTIAL_REQUIRED');
  });
});
