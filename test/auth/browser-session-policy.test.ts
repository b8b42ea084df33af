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

// What the extension relies on to keep a session across browser restarts: every refresh rotates the
// token, a sign-out revokes it for good, and the org's policy rides along in every token answer.

const now = new Date('2026-03-02T09:00:00Z');
const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;

interface Tokens {
  accessToken: string;
  refreshToken: string;
  requireSignInEachBrowserSession: boolean;
}

async function signIn(email: string): Promise<Tokens> {
  await testUser(db, { orgId: org.orgId, email, role: 'rep', now });
  const response = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: TEST_PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as Tokens;
}

const refresh = (refreshToken: string) =>
  relay.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } });

const setPolicy = (value: boolean) =>
  db.query(
    `UPDATE orgs SET settings = jsonb_set(settings, '{auth}', COALESCE(settings->'auth', '{}') || $2::jsonb) WHERE id = $1`,
    [org.orgId, JSON.stringify({ requireSignInEachBrowserSession: value })],
  );

beforeAll(async () => {
  relay = await testRelay(db, { clock: () => now });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('sessions a browser extension keeps across restarts', () => {
  it('lets a session be kept by default and says so in the sign-in and refresh answers', async () => {
    const tokens = await signIn('keeps@example.com');
    expect(tokens.requireSignInEachBrowserSession).toBe(false);
    const rotated = await refresh(tokens.refreshToken);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json()).toMatchObject({ requireSignInEachBrowserSession: false });
    expect((rotated.json() as Tokens).refreshToken).not.toBe(tokens.refreshToken);
  });

  it('tells the client on its next refresh once the org requires sign-in each browser session', async () => {
    const tokens = await signIn('policy-change@example.com');
    await setPolicy(true);
    try {
      const rotated = await refresh(tokens.refreshToken);
      expect(rotated.statusCode, rotated.body).toBe(200);
      expect(rotated.json()).toMatchObject({ requireSignInEachBrowserSession: true });
      const fresh = await signIn('policy-new@example.com');
      expect(fresh.requireSignInEachBrowserSession).toBe(true);
    } finally {
      await setPolicy(false);
    }
  });

  it('refuses a copied refresh token after the session signed out', async () => {
    const tokens = await signIn('signs-out@example.com');
    const copy = tokens.refreshToken;
    const out = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(out.statusCode, out.body).toBe(204);
    const replay = await refresh(copy);
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ error: { code: 'INVALID_REFRESH_TOKEN' } });
  });

  it('refuses a refresh token once it was traded: each one works exactly once', async () => {
    const tokens = await signIn('once@example.com');
    expect((await refresh(tokens.refreshToken)).statusCode).toBe(200);
    const again = await refresh(tokens.refreshToken);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ error: { code: 'INVALID_REFRESH_TOKEN' } });
  });
});
