import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_AUTH_MS } from '../../server/auth/recent-auth.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  eventually,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
let other: TestOrg;

const session = async (email: string, role: string) =>
  (await signedInUser(relay.app, db, { orgId: org.orgId, email, role, now })).auth;

const me = (key: string) =>
  relay.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key}` } });

const create = (headers: { authorization: string }, payload: object) =>
  relay.app.inject({ method: 'POST', url: '/v1/api-keys', headers, payload });

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
  other = await seedOrg(db, { name: 'Other Dental', sender: '+12025550177' });
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('API key management', () => {
  it('lets an owner who just signed in mint a key, shown once and listed by its prefix only', async () => {
    const owner = await session('owner@acme.test', 'owner');
    const made = await create(owner, { name: 'Zapier', role: 'rep' });
    expect(made.statusCode, made.body).toBe(201);
    const { key, apiKey } = made.json() as { key: string; apiKey: { id: string; prefix: string } };
    expect((await me(key)).statusCode).toBe(200);
    const list = await relay.app.inject({ method: 'GET', url: '/v1/api-keys', headers: owner });
    expect(list.body).not.toContain(key);
    expect(list.json().keys).toContainEqual(
      expect.objectContaining({ id: apiKey.id, name: 'Zapier', role: 'rep', prefix: apiKey.prefix }),
    );
    const [event] = await db.query<{ kind: string }>(
      `SELECT kind FROM auth_events WHERE kind = 'api_key_created' AND detail->>'keyId' = $1`,
      [apiKey.id],
    );
    expect(event?.kind).toBe('api_key_created');
  });

  it('a leaked API key cannot mint more keys', async () => {
    const made = await create(org.auth, { name: 'persistence', role: 'owner' });
    expect(made.statusCode, made.body).toBe(403);
    expect(made.json().error.code).toBe('SESSION_REQUIRED');
  });

  it('a stolen session token cannot mint a key without proving the password again', async () => {
    const owner = await session('stale@acme.test', 'owner');
    now = new Date(now.getTime() + RECENT_AUTH_MS + 60_000);
    const made = await create(owner, { name: 'persistence', role: 'rep' });
    expect(made.json().error.code).toBe('REAUTH_REQUIRED');
  });

  it('an admin cannot mint a key above their own role', async () => {
    const admin = await session('admin@acme.test', 'admin');
    const made = await create(admin, { name: 'escalate', role: 'owner' });
    expect(made.statusCode, made.body).toBe(403);
    expect(made.json().error.code).toBe('CANNOT_GRANT');
  });

  it('a revoked key stops at once, even while this process has it cached', async () => {
    const owner = await session('revoker@acme.test', 'owner');
    const made = await create(owner, { name: 'to revoke', role: 'rep' });
    const { key, apiKey } = made.json() as { key: string; apiKey: { id: string } };
    for (let i = 0; i < 3; i++) expect((await me(key)).statusCode).toBe(200);
    const revoked = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${apiKey.id}`,
      headers: owner,
    });
    expect(revoked.statusCode, revoked.body).toBe(204);
    // The cache holds org keys for 2 s; the announced revocation must empty it well before that.
    const started = performance.now();
    await eventually(async () => (await me(key)).statusCode === 401, 1_000);
    expect(performance.now() - started).toBeLessThan(1_000);
    const again = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${apiKey.id}`,
      headers: owner,
    });
    expect(again.json().error.code).toBe('API_KEY_NOT_FOUND');
  });

  it('never revokes or lists another organisation’s key', async () => {
    const owner = await session('isolated@acme.test', 'owner');
    const [theirs] = await db.query<{ id: string }>('SELECT id FROM api_keys WHERE org_id = $1', [
      other.orgId,
    ]);
    const attempt = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${theirs?.id}`,
      headers: owner,
    });
    expect(attempt.statusCode).toBe(404);
    expect((await me(other.key)).statusCode).toBe(200);
    const list = await relay.app.inject({ method: 'GET', url: '/v1/api-keys', headers: owner });
    expect(JSON.stringify(list.json())).not.toContain(theirs?.id);
  });

  it('is refused to roles without org.manage', async () => {
    const rep = await session('rep@acme.test', 'rep');
    const list = await relay.app.inject({ method: 'GET', url: '/v1/api-keys', headers: rep });
    expect(list.statusCode).toBe(403);
  });
});
