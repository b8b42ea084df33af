import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.ts';
import { createUser } from '../../server/auth/users.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, TEST_PASSWORD, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// The pages behind the links the relay mails (issue #16, item 1): accepting an invitation,
// resetting a password, confirming an address, and the second factor an org may require.

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const FORM = { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

async function invite(email: string): Promise<string> {
  const invited = await relay.app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: org.auth,
    payload: { email, role: 'rep' },
  });
  expect(invited.statusCode, invited.body).toBe(201);
  const [mail] = await db.query<{ body: string }>(
    `SELECT body FROM sandbox_mail WHERE to_address = $1 ORDER BY created_at DESC LIMIT 1`,
    [email],
  );
  const link = /https?:\/\/\S+/.exec(mail?.body ?? '')?.[0] ?? '';
  expect(new URL(link).pathname).toBe('/auth/reset');
  return new URL(link).searchParams.get('token') ?? '';
}

const post = (url: string, fields: Record<string, string>) =>
  relay.app.inject({ method: 'POST', url, headers: FORM, payload: new URLSearchParams(fields).toString() });

const login = (email: string, password = TEST_PASSWORD) =>
  relay.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });

describe('accepting an invitation', () => {
  it('shows a form to choose a password, which a link-preview GET does not use up', async () => {
    const token = await invite('joiner@example.com');
    const page = await relay.app.inject({
      method: 'GET',
      url: `/auth/reset?token=${token}`,
      headers: BROWSER,
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Join Acme Dental on CRM Texting');
    expect(page.body).toContain('joiner@example.com');
    expect(page.body).toContain('href="/assets/pages.css"');
    const again = await relay.app.inject({
      method: 'GET',
      url: `/auth/reset?token=${token}`,
      headers: BROWSER,
    });
    expect(again.statusCode).toBe(200);
  });

  it('refuses differing or weak passwords beside the field and keeps the link usable', async () => {
    const token = await invite('careful@example.com');
    const differ = await post('/auth/reset', {
      token,
      password: TEST_PASSWORD,
      confirm: `${TEST_PASSWORD}x`,
    });
    expect(differ.statusCode).toBe(422);
    expect(differ.body).toContain('id="confirm-error"');
    expect(differ.body).toContain('The two passwords differ');
    const weak = await post('/auth/reset', { token, password: 'password1234', confirm: 'password1234' });
    expect(weak.statusCode).toBe(422);
    expect(weak.body).toContain('id="password-error"');
    expect((await login('careful@example.com')).statusCode).toBe(401);
    const set = await post('/auth/reset', { token, password: TEST_PASSWORD, confirm: TEST_PASSWORD });
    expect(set.statusCode).toBe(303);
    expect(set.headers.location).toBe('/auth/done?step=joined');
    expect((await login('careful@example.com')).statusCode).toBe(201);
  });

  it('answers a used, unknown or other kind of link with a page, not JSON, and changes nothing', async () => {
    const token = await invite('once@example.com');
    expect(
      (await post('/auth/reset', { token, password: TEST_PASSWORD, confirm: TEST_PASSWORD })).statusCode,
    ).toBe(303);
    const reused = await post('/auth/reset', {
      token,
      password: `${TEST_PASSWORD}!`,
      confirm: `${TEST_PASSWORD}!`,
    });
    expect(reused.statusCode).toBe(400);
    expect(reused.headers['content-type']).toMatch(/^text\/html/);
    expect(reused.body).toContain('This link cannot be used');
    expect((await login('once@example.com')).statusCode).toBe(201);
    const unknown = await relay.app.inject({
      method: 'GET',
      url: '/auth/reset?token=nope',
      headers: BROWSER,
    });
    expect(unknown.statusCode).toBe(400);
    // A reset link is no address-confirmation link, and the other way round.
    const other = await invite('crossed@example.com');
    expect(
      (await relay.app.inject({ method: 'GET', url: `/auth/verify?token=${other}`, headers: BROWSER }))
        .statusCode,
    ).toBe(400);
  });

  it('enrols the authenticator app the org requires before the invitation is done', async () => {
    await db.query(
      `UPDATE orgs SET settings = settings || '{"auth":{"requireSecondFactor":true}}' WHERE id = $1`,
      [org.orgId],
    );
    try {
      const token = await invite('strict@example.com');
      const set = await post('/auth/reset', { token, password: TEST_PASSWORD, confirm: TEST_PASSWORD });
      expect(set.statusCode).toBe(200);
      expect(set.body).toContain('Set up your authenticator app');
      const secret = /id="totp-key">([A-Z2-7]+)</.exec(set.body)?.[1] ?? '';
      const step = /name="token" value="([^"]+)"/.exec(set.body)?.[1] ?? '';
      const wrong = await post('/auth/enrol', {
        token: step,
        code: '000000' === totpCode(secret, now) ? '111111' : '000000',
      });
      expect(wrong.statusCode).toBe(422);
      expect(wrong.body).toContain('id="code-error"');
      const done = await post('/auth/enrol', { token: step, code: totpCode(secret, now) });
      expect(done.statusCode, done.body).toBe(200);
      expect(done.body).toContain('id="recovery-codes"');
      const signIn = await login('strict@example.com');
      expect(signIn.statusCode).toBe(200);
      expect(signIn.json()).toMatchObject({ factors: ['totp'] });
      // The step is single use: replaying the form changes nothing.
      now = new Date(now.getTime() + 30_000);
      const replay = await post('/auth/enrol', { token: step, code: totpCode(secret, now) });
      expect(replay.statusCode).toBe(400);
    } finally {
      await db.query(`UPDATE orgs SET settings = settings - 'auth' WHERE id = $1`, [org.orgId]);
    }
  });
});

async function mailedLink(email: string, path: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const rows = await db.query<{ body: string }>(
      `SELECT body FROM sandbox_mail WHERE to_address = $1 ORDER BY created_at DESC`,
      [email],
    );
    for (const { body } of rows) {
      const link = /https?:\/\/\S+/.exec(body)?.[0];
      if (link !== undefined && new URL(link).pathname === path)
        return new URL(link).searchParams.get('token') ?? '';
    }
    // The reset mail leaves after the answer (no timing oracle): wait for it.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${path} mail to ${email}`);
}

describe('resetting a password and confirming an address', () => {
  it('sets a new password from the reset mail and signs the old sessions out', async () => {
    const first = await invite('forgetful@example.com');
    await post('/auth/reset', { token: first, password: TEST_PASSWORD, confirm: TEST_PASSWORD });
    const session = (await login('forgetful@example.com')).json() as { accessToken: string };
    await db.query(`DELETE FROM sandbox_mail WHERE to_address = 'forgetful@example.com'`);
    const asked = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset',
      payload: { email: 'forgetful@example.com' },
    });
    expect(asked.statusCode).toBe(202);
    const token = await mailedLink('forgetful@example.com', '/auth/reset');
    const page = await relay.app.inject({
      method: 'GET',
      url: `/auth/reset?token=${token}`,
      headers: BROWSER,
    });
    expect(page.body).toContain('Choose a new password');
    const fresh = `${TEST_PASSWORD} anew`;
    const set = await post('/auth/reset', { token, password: fresh, confirm: fresh });
    expect(set.headers.location).toBe('/auth/done?step=reset');
    expect((await login('forgetful@example.com')).statusCode).toBe(401);
    expect((await login('forgetful@example.com', fresh)).statusCode).toBe(201);
    const me = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    expect(me.statusCode).toBe(401);
  });

  it('confirms an address only from the page button, never from the GET a mail scanner makes', async () => {
    // A user created with a password (cli user create --password-stdin) gets a confirmation link.
    const { mail } = await createUser(db, {
      orgId: org.orgId,
      email: 'verify@example.com',
      role: 'rep',
      password: TEST_PASSWORD,
      actor: 'cli',
      now,
      publicUrl: 'http://relay.test',
    });
    const link = new URL(/https?:\/\/\S+/.exec(mail.text)?.[0] ?? '');
    expect(link.pathname).toBe('/auth/verify');
    const token = link.searchParams.get('token') ?? '';
    const verified = async () =>
      (
        await db.query<{ email_verified_at: Date | null }>(
          `SELECT email_verified_at FROM users WHERE email = 'verify@example.com'`,
        )
      )[0]?.email_verified_at ?? null;
    const page = await relay.app.inject({
      method: 'GET',
      url: `/auth/verify?token=${token}`,
      headers: BROWSER,
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Confirm my address');
    expect(await verified()).toBeNull();
    const done = await post('/auth/verify', { token });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/auth/done?step=verified');
    expect(await verified()).not.toBeNull();
  });
});

describe('pages never show raw JSON to a browser', () => {
  it('answers an unknown page and a refused form with an HTML page on the shared stylesheet', async () => {
    const missing = await relay.app.inject({ method: 'GET', url: '/no/such/page', headers: BROWSER });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^text\/html/);
    expect(missing.body).toContain('NOT_FOUND');
    const api = await relay.app.inject({ method: 'GET', url: '/no/such/page' });
    expect(api.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const css = await relay.app.inject({ method: 'GET', url: '/assets/pages.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('makes the links in the sandbox mailbox clickable, escaping everything else', async () => {
    const token = await invite('clicky@example.com');
    const page = await relay.app.inject({ method: 'GET', url: '/sandbox/mail', headers: BROWSER });
    expect(page.body).toMatch(new RegExp(`<a href="[^"]*/auth/reset\\?token=${token}">`));
    expect(page.body).not.toContain('<script');
  });
});
