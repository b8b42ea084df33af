import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../server/auth/api-keys.ts';
import { acknowledgePolicy } from '../../server/policy/texting-policy.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  steerableDaytimeClock,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// Issue #17 (6): the texting policy every person acknowledges before texting (where the org
// requires it), again when it changes and yearly; a send before that is refused with a stable code.
postgresSkipNote('texting policy');

type Auth = { authorization: string };

describe.each(ENGINES)('on %s', (engine) => {
  const time = steerableDaytimeClock();
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let admin: { auth: Auth };
  let rep: { userId: string; auth: Auth };

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock });
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const now = relay.clock();
    admin = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'ada@acme.test',
      role: 'admin',
      now,
    });
    rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rita@acme.test',
      role: 'rep',
      now,
    });
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const send = (auth: Auth, body = 'Your cleaning is booked for Friday at 10.') =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body },
    });
  const call = (auth: Auth, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    relay.app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload }) });
  const acknowledge = (auth: Auth, version: number) =>
    call(auth, 'POST', '/v1/policy/acknowledge', { version });
  const messages = async () =>
    (
      await relay.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE org_id = $1', [
        org.orgId,
      ])
    )[0]?.n;

  it('offers a default policy drafted from TCPA, HIPAA and PCI basics, not yet required', async () => {
    const policy = (await call(rep.auth, 'GET', '/v1/policy')).json();
    expect(policy).toMatchObject({ version: 1, publishedAt: null, required: false, standing: 'never' });
    expect(policy.body).toContain('TCPA');
    expect(policy.body).toContain('STOP');
    expect(policy.body).toContain('card number');
    expect(policy.body).toContain('diagnos');
    expect((await send(rep.auth)).statusCode).toBe(202);
  });

  it('refuses a send before the policy is acknowledged where the org requires it, and creates nothing', async () => {
    expect(
      (await call(admin.auth, 'PUT', '/v1/org/settings/requirePolicyAcknowledgement', { value: true }))
        .statusCode,
    ).toBe(200);
    const before = await messages();
    const refused = await send(rep.auth);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'POLICY_NOT_ACKNOWLEDGED',
      details: { reason: 'never', version: 1, readAt: '/admin#/policy' },
    });
    const preflight = await call(rep.auth, 'POST', '/v1/messages/preflight', {
      from: org.sender,
      to: CUSTOMER,
      body: 'Hello',
    });
    expect(preflight.json().error.code).toBe('POLICY_NOT_ACKNOWLEDGED');
    expect(await messages()).toBe(before);
    // An integration's key is not a person who reads: the policy binds people.
    expect((await send(org.auth)).statusCode).toBe(202);
    expect((await acknowledge(org.auth, 1)).json().error.code).toBe('SESSION_REQUIRED');
    // A key bound to the rep sends as the rep: it is refused as the rep is.
    const bound = await createApiKey(relay.db, { orgId: org.orgId, role: 'rep', userId: rep.userId });
    const viaKey = await send({ authorization: `Bearer ${bound.key}` });
    expect(viaKey.json().error?.code).toBe('POLICY_NOT_ACKNOWLEDGED');
  });

  it('lets a rep send once they acknowledge, on the record', async () => {
    const answer = await acknowledge(rep.auth, 1);
    expect(answer.statusCode, answer.body).toBe(200);
    // A double click landing at the same instant records one acknowledgement, never a 500.
    const at = relay.clock();
    for (let i = 0; i < 2; i++)
      await acknowledgePolicy(relay.db, {
        orgId: org.orgId,
        userId: rep.userId,
        version: 1,
        actor: 'test',
        at,
      });
    // Stored on first acknowledgement, the default is still the default: nobody published it.
    expect((await call(rep.auth, 'GET', '/v1/policy')).json()).toMatchObject({
      standing: 'current',
      acknowledgedVersion: 1,
      publishedAt: null,
    });
    expect((await send(rep.auth)).statusCode).toBe(202);
    const [entry] = await relay.db.query<{ actor: string; target_id: string }>(
      `SELECT actor, target_id FROM audit_log WHERE org_id = $1 AND action = 'policy.acknowledged'`,
      [org.orgId],
    );
    expect(entry).toEqual({ actor: `user:${rep.userId}`, target_id: '1' });
    // The version acknowledged is kept word for word, and neither it nor the acknowledgement can be edited.
    const [stored] = await relay.db.query<{ body: string }>(
      'SELECT body FROM texting_policies WHERE org_id = $1 AND version = 1',
      [org.orgId],
    );
    expect(stored?.body).toContain('Texting policy');
    await expect(
      relay.db.query(`UPDATE texting_policies SET body = 'x' WHERE org_id = $1`, [org.orgId]),
    ).rejects.toThrow(/append-only/);
    await expect(
      relay.db.query('DELETE FROM policy_acknowledgements WHERE user_id = $1', [rep.userId]),
    ).rejects.toThrow(/append-only/);
  });

  it('asks again after the policy changes, and refuses acknowledging the words no longer current', async () => {
    const published = await call(admin.auth, 'PUT', '/v1/policy', {
      body: 'Texting policy v2\n\nNever text a card number. Honour STOP at once.',
    });
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json().version).toBe(2);
    const same = await call(admin.auth, 'PUT', '/v1/policy', {
      body: 'Texting policy v2\n\nNever text a card number. Honour STOP at once.',
    });
    expect(same.json().error.code).toBe('POLICY_UNCHANGED');
    expect((await send(rep.auth)).json().error.details.reason).toBe('changed');
    const stale = await acknowledge(rep.auth, 1);
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error).toMatchObject({ code: 'POLICY_CHANGED', details: { version: 2 } });
    expect((await acknowledge(rep.auth, 2)).statusCode).toBe(200);
    expect((await send(rep.auth)).statusCode).toBe(202);
  });

  it('lists who has not acknowledged first, for users.manage only', async () => {
    const list = await call(admin.auth, 'GET', '/v1/policy/acknowledgements');
    expect(list.statusCode, list.body).toBe(200);
    const people = list.json().people as { email: string; standing: string }[];
    expect(people.at(-1)).toMatchObject({ email: 'rita@acme.test', standing: 'current' });
    expect(people.find((p) => p.email === 'ada@acme.test')?.standing).toBe('never');
    expect((await call(rep.auth, 'GET', '/v1/policy/acknowledgements')).statusCode).toBe(403);
    expect((await call(rep.auth, 'PUT', '/v1/policy', { body: 'Anything goes.' })).statusCode).toBe(403);
    // The other org's policy is its own default, untouched.
    expect((await call(other.auth, 'GET', '/v1/policy')).json()).toMatchObject({
      version: 1,
      publishedAt: null,
    });
  });

  it('asks again a year after the last acknowledgement', async () => {
    time.advance(366 * 86_400_000);
    const login = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 'rita@acme.test', password: TEST_PASSWORD },
    });
    const auth = { authorization: `Bearer ${login.json().accessToken}` };
    expect((await send(auth)).json().error).toMatchObject({
      code: 'POLICY_NOT_ACKNOWLEDGED',
      details: { reason: 'yearly' },
    });
    expect((await acknowledge(auth, 2)).statusCode).toBe(200);
    expect((await send(auth)).statusCode).toBe(202);
  });
});
