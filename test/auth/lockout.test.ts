import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { createOrg } from '../../server/organisations/org-admin.ts';
import { ENGINES, freshDatabase, freshPglite, postgresSkipNote } from '../helpers/db.ts';
import {
  seedOrg,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

// Issue #13, finding 8: lockout used to lock everyone out. These are the attacks it allowed.

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
const PASSWORD = TEST_PASSWORD;
const WRONG = 'not the password at all';

async function addUser(email: string, orgId = org.orgId): Promise<string> {
  return testUser(db, { orgId, email, now });
}

function login(
  email: string,
  password: string,
  from: { remoteAddress?: string; forwardedFor?: string } = {},
  app = relay.app,
  code?: string,
) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password, ...(code === undefined ? {} : { code }) },
    ...(from.remoteAddress === undefined ? {} : { remoteAddress: from.remoteAddress }),
    headers: from.forwardedFor === undefined ? {} : { 'x-forwarded-for': from.forwardedFor },
  });
}

async function sessionIp(response: {
  json(): unknown;
  body: string;
  statusCode: number;
}): Promise<string | null> {
  expect(response.statusCode, response.body).toBe(201);
  const { sessionId } = response.json() as { sessionId: string };
  const [row] = await db.query<{ ip: string | null }>('SELECT ip FROM auth_sessions WHERE id = $1', [
    sessionId,
  ]);
  return row?.ip ?? null;
}

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('the client address behind a reverse proxy (TRUST_PROXY)', () => {
  it('reads TRUST_PROXY as off, a hop count, or proxy addresses and ranges', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'on' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1, ::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    for (const bad of ['yes', '10.0.0.0/40', '0', 'proxy.example.com'])
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(ConfigError);
  });

  it('takes the client address from X-Forwarded-For only when the peer is a trusted proxy', async () => {
    await addUser('proxied@example.com');
    const proxied = await testRelay(db, { clock, config: { trustProxy: ['10.0.0.0/8'] } });
    try {
      const viaProxy = await login(
        'proxied@example.com',
        PASSWORD,
        { remoteAddress: '10.1.2.3', forwardedFor: '203.0.113.5' },
        proxied.app,
      );
      expect(await sessionIp(viaProxy)).toBe('203.0.113.5');
      // A client talking to the relay directly cannot name its own address.
      const spoofed = await login(
        'proxied@example.com',
        PASSWORD,
        { remoteAddress: '198.51.100.9', forwardedFor: '203.0.113.77' },
        proxied.app,
      );
      expect(await sessionIp(spoofed)).toBe('198.51.100.9');
    } finally {
      await proxied.close();
    }
  });

  it('with a hop count, ignores what the client wrote into X-Forwarded-For itself', async () => {
    await addUser('hops@example.com');
    const proxied = await testRelay(db, { clock, config: { trustProxy: 1 } });
    try {
      const response = await login(
        'hops@example.com',
        PASSWORD,
        { remoteAddress: '10.0.0.2', forwardedFor: '192.0.2.1, 203.0.113.6' },
        proxied.app,
      );
      expect(await sessionIp(response)).toBe('203.0.113.6');
    } finally {
      await proxied.close();
    }
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is off', async () => {
    await addUser('direct@example.com');
    const response = await login('direct@example.com', PASSWORD, {
      remoteAddress: '198.51.100.20',
      forwardedFor: '203.0.113.8',
    });
    expect(await sessionIp(response)).toBe('198.51.100.20');
  });
});

describe('throttling by account and address', () => {
  it("a stranger's five wrong passwords do not lock the owner out at another address", async () => {
    await addUser('owner@example.com');
    const stranger = { remoteAddress: '198.51.100.66' };
    for (let i = 0; i < 5; i++)
      expect((await login('owner@example.com', WRONG, stranger)).statusCode).toBe(401);
    expect((await login('owner@example.com', PASSWORD, stranger)).statusCode).toBe(429);
    const owner = await login('owner@example.com', PASSWORD, { remoteAddress: '203.0.113.10' });
    expect(owner.statusCode, owner.body).toBe(201);
  });

  it('30 failures from one shared address do not lock out the other accounts behind it', async () => {
    const office = { remoteAddress: '192.0.2.50' };
    for (let n = 0; n < 10; n++) await addUser(`colleague${n}@example.com`);
    await addUser('bystander@example.com');
    for (let n = 0; n < 10; n++)
      for (let i = 0; i < 3; i++)
        expect((await login(`colleague${n}@example.com`, WRONG, office)).statusCode).toBe(401);
    const bystander = await login('bystander@example.com', PASSWORD, office);
    expect(bystander.statusCode, bystander.body).toBe(201);
  });

  it('locks a guessing address progressively longer', async () => {
    await addUser('guessed@example.com');
    const guesser = { remoteAddress: '198.51.100.77' };
    for (let i = 0; i < 5; i++) await login('guessed@example.com', WRONG, guesser);
    const first = await login('guessed@example.com', WRONG, guesser);
    expect(first.statusCode).toBe(429);
    expect(Number(first.headers['retry-after'])).toBe(5 * 60);
    advance(5 * 60_000 + 1_000);
    expect((await login('guessed@example.com', WRONG, guesser)).statusCode).toBe(401);
    const second = await login('guessed@example.com', WRONG, guesser);
    expect(second.statusCode).toBe(429);
    expect(Number(second.headers['retry-after'])).toBe(10 * 60);
  });

  it('lets the owner through a lock with password and authenticator code, and answers anything less like the lock', async () => {
    await addUser('twofactor@example.com');
    const signedIn = await login('twofactor@example.com', PASSWORD);
    const { accessToken } = signedIn.json() as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };
    const enrol = await relay.app.inject({ method: 'POST', url: '/v1/auth/totp/enrol', headers });
    const { secret } = enrol.json() as { secret: string };
    const confirm = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/confirm',
      headers,
      payload: { code: totpCode(secret, now) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    advance(60_000);

    const here = { remoteAddress: '203.0.113.99' };
    for (let i = 0; i < 5; i++) await login('twofactor@example.com', WRONG, here);
    const lockedAnswer = await login('twofactor@example.com', PASSWORD, here);
    expect(lockedAnswer.statusCode).toBe(429);
    expect(lockedAnswer.json().error.details.secondFactor).toMatch(/code/);
    const wrongCode = String((Number(totpCode(secret, now)) + 1) % 1_000_000).padStart(6, '0');
    const wrongPassword = await login('twofactor@example.com', WRONG, here, relay.app, totpCode(secret, now));
    const badCode = await login('twofactor@example.com', PASSWORD, here, relay.app, wrongCode);
    for (const refused of [wrongPassword, badCode]) {
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error.code).toBe(lockedAnswer.json().error.code);
      expect(refused.json().error.message).toBe(lockedAnswer.json().error.message);
    }
    const through = await login('twofactor@example.com', PASSWORD, here, relay.app, totpCode(secret, now));
    expect(through.statusCode, through.body).toBe(201);
    const me = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${(through.json() as { accessToken: string }).accessToken}` },
    });
    expect(me.statusCode).toBe(200);
    // The same code cannot be used twice.
    const replay = await login('twofactor@example.com', PASSWORD, here, relay.app, totpCode(secret, now));
    expect(replay.statusCode).not.toBe(201);
  });
});

postgresSkipNote('parallel sign-in attempts');

describe.each(ENGINES)('parallel wrong passwords on %s', (engine) => {
  it('60 at once get exactly 5 password checks', async () => {
    const fresh = await freshDatabase(engine);
    const parallel = await testRelay(fresh.db, { clock });
    try {
      const { orgId } = await createOrg(fresh.db, 'Race Co');
      await testUser(fresh.db, { orgId, email: 'raced@example.com', now });
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          parallel.app.inject({
            method: 'POST',
            url: '/v1/auth/login',
            payload: { email: 'raced@example.com', password: `${WRONG} ${i}` },
            remoteAddress: '198.51.100.5',
          }),
        ),
      );
      const statuses = answers.map((a) => a.statusCode);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(55);
      const [checks] = await fresh.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM auth_events WHERE kind = 'sign_in_failed'`,
      );
      expect(checks?.n).toBe(5);
    } finally {
      await parallel.close();
      await fresh.drop();
    }
  }, 60_000);
});
