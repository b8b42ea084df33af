import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts';

/**
 * Issue #13, finding 11: the passwordless first step (`POST /v1/auth/passkey/options` with an
 * email) must answer an unknown email exactly as it answers a known one, so it cannot be used to
 * find out who has an account.
 */

const now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
const ORIGIN = 'http://relay.test';
const PASSWORD = 'correct horse battery staple';
const KNOWN = 'has-passkey@example.com';
const authenticator = new SoftwareAuthenticator(ORIGIN);

interface Options {
  challenge: string;
  allowCredentials: { id: string; type: string; transports?: string[] }[];
  [key: string]: unknown;
}

const options = async (email: string, app = relay.app): Promise<Options> => {
  const response = await app.inject({ method: 'POST', url: '/v1/auth/passkey/options', payload: { email } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Options;
};

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
  await createUser(db, {
    orgId: org.orgId,
    email: KNOWN,
    role: 'rep',
    password: PASSWORD,
    actor: 'test',
    now,
    publicUrl: ORIGIN,
  });
  await createUser(db, {
    orgId: org.orgId,
    email: 'no-passkey@example.com',
    role: 'rep',
    password: PASSWORD,
    actor: 'test',
    now,
    publicUrl: ORIGIN,
  });
  const login = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: KNOWN, password: PASSWORD },
  });
  const bearer = { authorization: `Bearer ${(login.json() as { accessToken: string }).accessToken}` };
  const creation = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/passkeys/options',
    payload: {},
    headers: bearer,
  });
  const created = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/passkeys',
    payload: { response: authenticator.register(creation.json()) },
    headers: bearer,
  });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(async () => {
  await relay.close();
  await db.close();
});

/** Everything but the values that differ on every call anyway (the challenge) or per account (ids). */
const shape = (o: Options) => ({
  keys: Object.keys(o).sort(),
  credentials: o.allowCredentials.map((c) => ({
    keys: Object.keys(c).sort(),
    type: c.type,
    idIsBase64url: /^[A-Za-z0-9_-]{22,}$/.test(c.id),
    transports: Array.isArray(c.transports),
  })),
});

describe('POST /v1/auth/passkey/options with an email', () => {
  it('answers an unknown email in the same shape as an account with a passkey', async () => {
    const known = await options(KNOWN);
    const unknown = await options('nobody-here@example.com');
    expect(known.allowCredentials.map((c) => c.id)).toEqual([authenticator.id]);
    expect(shape(unknown)).toEqual(shape(known));
    expect(unknown.allowCredentials).toHaveLength(1);
  });

  it('answers an account without a passkey like an unknown one', async () => {
    expect(shape(await options('no-passkey@example.com'))).toEqual(shape(await options(KNOWN)));
  });

  it('gives an unknown email the same credentials every time, so asking twice tells nothing', async () => {
    const first = await options('nobody-here@example.com');
    const second = await options('NOBODY-here@example.com');
    expect(second.allowCredentials).toEqual(first.allowCredentials);
    expect(second.challenge).not.toBe(first.challenge);
    expect((await options('someone-else@example.com')).allowCredentials).not.toEqual(first.allowCredentials);
  });

  it('gives the same answer from another relay process on the same database', async () => {
    const other = await testRelay(db, { clock });
    try {
      expect((await options('nobody-here@example.com', other.app)).allowCredentials).toEqual(
        (await options('nobody-here@example.com')).allowCredentials,
      );
    } finally {
      await other.close();
    }
  });

  it('still signs in with the real passkey after naming its email', async () => {
    const request = await options(KNOWN);
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/passkey',
      payload: { response: authenticator.assert(request) },
    });
    expect(answer.statusCode, answer.body).toBe(201);
  });
});
