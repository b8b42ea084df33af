import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  seedOrg,
  signedInUser,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// Issue #17 (3): the org's settings over HTTP, for the admin console: the CLI's names and checks,
// audited, refused whole on a bad value, and identity policies only after a recent sign-in.
postgresSkipNote('org settings API');

type Auth = { authorization: string };
type Setting = { key: string; value: unknown };

describe.each(ENGINES)('on %s', (engine) => {
  const time = steerableDaytimeClock();
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let admin: { userId: string; auth: Auth };
  let rep: { auth: Auth };

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock });
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    admin = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'ada@acme.test',
      role: 'admin',
      now: relay.clock(),
    });
    rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rita@acme.test',
      role: 'rep',
      now: relay.clock(),
    });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const put = (auth: Auth, key: string, value: unknown) =>
    relay.app.inject({ method: 'PUT', url: `/v1/org/settings/${key}`, headers: auth, payload: { value } });
  async function settings(auth: Auth = admin.auth): Promise<Map<string, unknown>> {
    const answer = await relay.app.inject({ method: 'GET', url: '/v1/org/settings', headers: auth });
    expect(answer.statusCode, answer.body).toBe(200);
    return new Map((answer.json().settings as Setting[]).map((s) => [s.key, s.value]));
  }

  it('lists every setting, unset ones as null', async () => {
    const all = await settings();
    for (const key of [
      'helpReply',
      'doubleOptIn',
      'messageTemplates',
      'auth.requireSecondFactor',
      'retention.messageBodyDays',
    ])
      expect(all.has(key), key).toBe(true);
    expect(all.get('helpReply')).toBeNull();
  });

  it('changes a setting as the CLI would, audited with who changed it', async () => {
    const answer = await put(
      admin.auth,
      'helpReply',
      'Acme Dental: reply STOP to opt out, or call 202-555-0100.',
    );
    expect(answer.statusCode, answer.body).toBe(200);
    expect((await settings()).get('helpReply')).toContain('Acme Dental');
    expect((await put(admin.auth, 'doubleOptIn', true)).json()).toEqual({ key: 'doubleOptIn', value: true });
    expect((await put(admin.auth, 'reviewSamplePercent', 5)).json().value).toBe(5);
    const [entry] = await relay.db.query<{ actor: string }>(
      `SELECT actor FROM audit_log WHERE org_id = $1 AND action = 'settings.changed' AND target_id = 'helpReply'`,
      [org.orgId],
    );
    expect(entry?.actor).toBe(`user:${admin.userId}`);
    // The other org's settings are its own.
    expect((await settings(other.auth)).get('helpReply')).toBeNull();
  });

  it('takes templates as a list and refuses one with an unknown merge field, changing nothing', async () => {
    const templates = [{ name: 'Reminder', body: 'Hi {{firstName}}, see you at 10. {{repName}}' }];
    expect((await put(admin.auth, 'messageTemplates', templates)).statusCode).toBe(200);
    const bad = await put(admin.auth, 'messageTemplates', [{ name: 'Oops', body: 'Hi {{nickname}}' }]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_SETTING');
    expect((await settings()).get('messageTemplates')).toEqual(templates);
    // A card number would be stored and texted by every rep who picks the template.
    const card = await put(admin.auth, 'messageTemplates', [
      { name: 'Pay', body: 'Use card 4111 1111 1111 1111' },
    ]);
    expect(card.statusCode).toBe(400);
    expect(card.json().error).toMatchObject({
      code: 'INVALID_SETTING',
      details: { code: 'SENSITIVE_CONTENT' },
    });
    expect(
      JSON.stringify(await relay.db.query('SELECT settings FROM orgs WHERE id = $1', [org.orgId])),
    ).not.toContain('4111');
  });

  it('refuses unknown names, bad values and a rep, and unsets with null', async () => {
    const unknown = await put(admin.auth, 'quietHoursOff', true);
    expect(unknown.json().error.code).toBe('UNKNOWN_SETTING');
    const bad = await put(admin.auth, 'doubleOptIn', 'maybe');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_SETTING');
    expect((await settings()).get('doubleOptIn')).toBe(true);
    const object = await put(admin.auth, 'helpReply', { text: 'x' });
    expect(object.json().error.code).toBe('INVALID_SETTING');
    const refused = await put(rep.auth, 'doubleOptIn', false);
    expect(refused.statusCode).toBe(403);
    expect((await put(admin.auth, 'doubleOptIn', null)).json()).toEqual({ key: 'doubleOptIn', value: null });
  });

  it('refuses an API key, and asks for a recent sign-in before where payment links point', async () => {
    // A leaked integration key must not point payment links at a phishing site, nor change anything else.
    const byKey = await put(org.auth, 'payments.linkBaseUrl', 'https://evil.example');
    expect(byKey.json().error.code).toBe('SESSION_REQUIRED');
    expect((await put(org.auth, 'helpReply', 'Reply STOP.')).json().error.code).toBe('SESSION_REQUIRED');
    const fresh = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'otto@acme.test',
      role: 'owner',
      now: relay.clock(),
    });
    // Their sign-in was ten minutes ago (the access token is still good; the proof is not recent).
    await relay.db.query('UPDATE auth_sessions SET authenticated_at = $2 WHERE id = $1', [
      fresh.sessionId,
      new Date(relay.clock().getTime() - 10 * 60_000),
    ]);
    for (const key of ['payments.linkBaseUrl', 'retention.messageBodyDays', 'anomaly.webhookUrl']) {
      const stale = await put(
        fresh.auth,
        key,
        key === 'retention.messageBodyDays' ? 1 : 'https://evil.example',
      );
      expect(stale.json().error.code, key).toBe('REAUTH_REQUIRED');
    }
    expect((await settings(fresh.auth)).get('payments.linkBaseUrl')).toBeNull();
  });

  it('leaves the Powerpack to the operator on a relay several orgs share', async () => {
    // Naming another org's Powerpack would send from its numbers and claim them (POST /v1/numbers).
    const owner = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'pia@acme.test',
      role: 'owner',
      now: relay.clock(),
    });
    const refused = await put(owner.auth, 'plivoPowerpackUuid', '5ec4c8c9-cd74-42b5-9e41-0d7670d6bb46');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'OPERATOR_SETTING',
      details: { setting: 'plivoPowerpackUuid' },
    });
    expect((await settings(owner.auth)).get('plivoPowerpackUuid')).toBeNull();
  });

  it('changes an identity policy only after a recent sign-in, and never with an API key', async () => {
    expect((await put(org.auth, 'auth.requireSecondFactor', true)).json().error.code).toBe(
      'SESSION_REQUIRED',
    );
    // Past the five minutes a sign-in counts as recent, within the access token's ten.
    time.advance(6 * 60_000);
    const stale = await put(admin.auth, 'auth.requireSecondFactor', true);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error.code).toBe('REAUTH_REQUIRED');
    expect((await settings()).get('auth.requireSecondFactor')).toBeNull();
    // Other settings do not ask for it.
    expect((await put(admin.auth, 'optOutReply', 'You are opted out of Acme Dental texts.')).statusCode).toBe(
      200,
    );
    const fresh = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'owen@acme.test',
      role: 'owner',
      now: relay.clock(),
    });
    const changed = await put(fresh.auth, 'auth.requireSecondFactor', true);
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().value).toBe(true);
  });
});
