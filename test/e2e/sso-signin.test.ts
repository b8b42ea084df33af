// @vitest-environment node

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTotpSecret, totpCode } from '../../server/auth/totp.ts';
import { createUser } from '../../server/auth/users.ts';
import type { Database } from '../../server/db/database.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';
import {
  buildExtensionInto,
  CHROMIUM_PATH,
  chromiumArgs,
  chromiumAvailable,
  ROOT,
} from './extension-harness.ts';
import { IDP_ENTITY, TinyIdp } from './tiny-idp.ts';

/**
 * "Sign in with SSO" end to end: the built extension in Chromium, a real relay (HTTP, PGlite) whose org
 * signs in only through SAML, and a tiny identity provider that answers the relay's AuthnRequest with
 * an auto-submitted form carrying a signed assertion (as a real IdP's POST binding does).
 */

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(`[e2e] skipping SSO sign-in browser test: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);

const EMAIL = 'ada@example.com';
const PASSWORD = 'correct horse battery staple';
const OWNER_EMAIL = 'owner@acme.example';
/** A rep with a password of her own whom the IdP names for the first time (nobody linked her yet). */
const UNLINKED_EMAIL = 'bea@example.com';
const UNLINKED_PASSWORD = 'bea’s own long password';
/** A rep the owner linked who also has an authenticator app. */
const TOTP_EMAIL = 'tess@example.com';
const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');

describe.skipIf(!hasChromium)('SSO sign-in in Chromium', { timeout: 45_000 }, () => {
  let context: BrowserContext;
  let extensionId: string;
  let db: Database;
  let relay: TestRelay;
  let relayUrl: string;
  let org: TestOrg;
  let idp: TinyIdp;
  let totpSecret: string;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crm-texting-sso-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const [extensionPath, database, relayPort] = await Promise.all([
      buildExtensionInto(join(dir, 'build'), 'chrome'),
      freshPglite(),
      freePort(),
    ]);
    db = database;
    // The manifest grants http://127.0.0.1/*, so the options page needs no permission prompt.
    relayUrl = `http://127.0.0.1:${relayPort}`;
    // Real time: the IdP's assertion and the relay's checks must agree on the clock.
    relay = await testRelay(db, { clock: () => new Date(), config: { publicUrl: relayUrl } });
    await relay.app.listen({ port: relayPort, host: '127.0.0.1' });
    cleanup.push(() => relay.close());
    org = await seedOrg(db);
    const { user: rep } = await createUser(db, {
      orgId: org.orgId,
      email: EMAIL,
      role: 'rep',
      password: PASSWORD,
      actor: 'test',
      now: new Date(),
      publicUrl: relayUrl,
    });

    idp = await TinyIdp.start({ relayUrl, orgId: org.orgId, email: EMAIL });
    cleanup.push(() => idp.close());
    // Only a just-signed-in owner configures SSO, and links the rep's password account to the IdP.
    await createUser(db, {
      orgId: org.orgId,
      email: OWNER_EMAIL,
      role: 'owner',
      password: PASSWORD,
      actor: 'test',
      now: new Date(),
      publicUrl: relayUrl,
    });
    const ownerLogin = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: OWNER_EMAIL, password: PASSWORD },
    });
    expect(ownerLogin.statusCode, ownerLogin.body).toBe(201);
    const owner = { authorization: `Bearer ${(ownerLogin.json() as { accessToken: string }).accessToken}` };
    const configured = await relay.app.inject({
      method: 'PUT',
      url: '/v1/sso/saml',
      headers: owner,
      payload: {
        idpEntityId: IDP_ENTITY,
        ssoUrl: idp.ssoUrl,
        idpCertificate: idp.cert,
        defaultRole: 'rep',
        ssoOnly: true,
      },
    });
    expect(configured.statusCode, configured.body).toBe(200);
    const linked = await relay.app.inject({
      method: 'POST',
      url: `/v1/users/${rep.id}/sso-link`,
      headers: owner,
      payload: { nameId: EMAIL },
    });
    expect(linked.statusCode, linked.body).toBe(200);

    await createUser(db, {
      orgId: org.orgId,
      email: UNLINKED_EMAIL,
      role: 'rep',
      password: UNLINKED_PASSWORD,
      actor: 'test',
      now: new Date(),
      publicUrl: relayUrl,
    });
    const { user: tess } = await createUser(db, {
      orgId: org.orgId,
      email: TOTP_EMAIL,
      role: 'rep',
      password: PASSWORD,
      actor: 'test',
      now: new Date(),
      publicUrl: relayUrl,
    });
    // Enrolment needs a session, and this org refuses password sign-in: the authenticator is set in the
    // row (a plaintext secret, which the relay reads and seals on first use); enrolment has its own tests.
    totpSecret = newTotpSecret();
    await db.query('UPDATE users SET totp_secret = $2, totp_enabled_at = $3 WHERE id = $1', [
      tess.id,
      totpSecret,
      new Date(),
    ]);
    const tessLinked = await relay.app.inject({
      method: 'POST',
      url: `/v1/users/${tess.id}/sso-link`,
      headers: owner,
      payload: { nameId: TOTP_EMAIL },
    });
    expect(tessLinked.statusCode, tessLinked.body).toBe(200);
    await mkdir(SHOTS, { recursive: true });

    const userDataDir = await mkdtemp(join(tmpdir(), 'crm-texting-chromium-'));
    cleanup.push(() => rm(userDataDir, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      // No CRM pages here: the HTTPS port in the host rules is never used.
      args: chromiumArgs(extensionPath, 9),
    });
    cleanup.push(() => context.close());
    const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
    extensionId = new URL(worker.url()).host;
  }, 90_000);

  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    await db?.close();
  });

  const signInTabs = () => context.pages().filter((p) => p.url().includes('/v1/sso/saml/'));

  async function optionsPage(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`chrome-extension://${extensionId}/options.html`);
    await page.getByLabel('Relay URL').fill(relayUrl);
    return page;
  }

  it('cancels the sign-in when the rep closes the identity provider’s tab', async () => {
    idp.mode = 'hold';
    const options = await optionsPage();
    await options.getByRole('button', { name: 'Sign in with SSO' }).click();
    await options.getByLabel('Your organisation’s SSO sign-in link or ID').fill(org.orgId);
    const opened = context.waitForEvent('page');
    await options.getByRole('button', { name: 'Continue with SSO' }).click();
    const tab = await opened;
    await tab.getByText('Sign in to Example IdP').waitFor();
    await options.getByTestId('sso-pending').waitFor();
    await tab.close();
    await options.getByTestId('sso-cancelled').filter({ hasText: 'its tab was closed' }).waitFor();
    await options.close();
  });

  it('says so when the relay refuses to start (unknown organisation) and leaves its answer open', async () => {
    const options = await optionsPage();
    await options.getByRole('button', { name: 'Sign in with SSO' }).click();
    await options.getByLabel('Your organisation’s SSO sign-in link or ID').fill(randomUUID());
    const opened = context.waitForEvent('page');
    await options.getByRole('button', { name: 'Continue with SSO' }).click();
    const tab = await opened;
    await options.getByTestId('sso-error').filter({ hasText: 'shown in the sign-in tab' }).waitFor();
    expect(await tab.textContent('body')).toContain('SSO_NOT_CONFIGURED');
    await tab.close();
    await options.close();
  });

  it('sends an SSO-only org’s rep from password to SSO, and signs in through the IdP tab', async () => {
    idp.mode = 'auto-post';
    const options = await optionsPage();
    await options.getByLabel('Email').fill(EMAIL);
    await options.getByLabel('Password').fill(PASSWORD);
    await options.getByRole('button', { name: 'Sign in', exact: true }).click();
    await options.getByTestId('sso-required').filter({ hasText: 'single sign-on' }).waitFor();
    const field = options.getByLabel('Your organisation’s SSO sign-in link or ID');
    await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true);

    await field.fill(`https://elsewhere.example/v1/sso/saml/${org.orgId}/login`);
    await options.getByRole('button', { name: 'Continue with SSO' }).click();
    await options.getByRole('alert').filter({ hasText: 'the extension uses the relay at' }).waitFor();

    await field.fill(`${relayUrl}/v1/sso/saml/${org.orgId}/login`);
    await options.getByRole('button', { name: 'Continue with SSO' }).click();
    const signedIn = options.getByTestId('signed-in');
    await signedIn.filter({ hasText: EMAIL }).waitFor({ timeout: 15_000 });
    // The session works against the relay: the options page reads the org from GET /v1/me.
    await signedIn.filter({ hasText: 'Acme Dental' }).waitFor();
    await expect.poll(() => signInTabs().length).toBe(0);

    const stored = await options.evaluate(async () => {
      type Area = { get(keys: null): Promise<Record<string, unknown>> };
      const { storage } = (globalThis as unknown as { chrome: { storage: { session: Area } } }).chrome;
      return storage.session.get(null);
    });
    expect(stored.authSession).toMatchObject({ relayUrl, email: EMAIL });
    expect(stored.ssoSignIn).toMatchObject({ status: 'signed-in', email: EMAIL });

    // Signed out, the page offers SSO for the organisation that worked, prefilled.
    await options.getByRole('button', { name: 'Sign out' }).click();
    await options.getByRole('heading', { name: 'Sign in with SSO' }).waitFor();
    expect(await options.getByLabel('Your organisation’s SSO sign-in link or ID').inputValue()).toBe(
      org.orgId,
    );
    await options.close();
  });

  /** The options page on its SSO form (it opens there once an SSO sign-in worked on this relay). */
  async function ssoForm(): Promise<Page> {
    const options = await optionsPage();
    const field = options.getByLabel('Your organisation’s SSO sign-in link or ID');
    const button = options.getByRole('button', { name: 'Sign in with SSO' });
    await field.or(button).first().waitFor();
    if (await button.isVisible()) await button.click();
    await field.fill(org.orgId);
    return options;
  }

  async function signOut(options: Page): Promise<void> {
    await options.getByRole('button', { name: 'Sign out' }).click();
    await options.getByRole('heading', { name: 'Sign in with SSO' }).waitFor();
  }

  const focused = (page: Page, label: string) =>
    page.getByLabel(label, { exact: true }).evaluate((el) => el === document.activeElement);

  it('links a password account the IdP names for the first time, from the options page, then signs in', async () => {
    idp.mode = 'auto-post';
    idp.email = UNLINKED_EMAIL;
    const options = await ssoForm();
    await options.getByRole('button', { name: 'Continue with SSO' }).click();
    await options.getByTestId('sso-not-linked').filter({ hasText: 'already has a password' }).waitFor();
    await expect.poll(() => signInTabs().length).toBe(0);
    // Keyboard: the password field has the focus, and Enter submits.
    await expect.poll(() => focused(options, 'Your password for this account')).toBe(true);
    await options.screenshot({ path: join(SHOTS, 'sso-link-account.png') });
    await options.keyboard.type('not my password');
    await options.keyboard.press('Enter');
    await options
      .getByTestId('sso-link-error')
      .filter({ hasText: 'password or authenticator code is not right' })
      .waitFor();
    await options.screenshot({ path: join(SHOTS, 'sso-link-wrong-password.png') });

    const password = options.getByLabel('Your password for this account');
    await password.fill(UNLINKED_PASSWORD);
    await password.press('Enter');
    const signedIn = options.getByTestId('signed-in');
    await signedIn.filter({ hasText: UNLINKED_EMAIL }).waitFor({ timeout: 15_000 });
    await signedIn.filter({ hasText: 'Acme Dental' }).waitFor();
    await expect.poll(() => signInTabs().length).toBe(0);
    const [row] = await db.query<{ sso_name_id: string | null }>(
      'SELECT sso_name_id FROM users WHERE email = $1',
      [UNLINKED_EMAIL],
    );
    expect(row?.sso_name_id).toBe(UNLINKED_EMAIL);
    await signOut(options);
    await options.close();
  });

  it('asks a rep with an authenticator app for the code after SSO, then signs in', async () => {
    idp.mode = 'auto-post';
    idp.email = TOTP_EMAIL;
    const options = await ssoForm();
    await options.getByRole('button', { name: 'Continue with SSO' }).click();
    await options.getByRole('heading', { name: 'Two-step verification' }).waitFor({ timeout: 15_000 });
    await options.getByText(`Signing in as ${TOTP_EMAIL} with SSO.`).waitFor();
    const label = 'Authentication code or recovery code';
    await expect.poll(() => focused(options, label)).toBe(true);
    // No session before the code: the relay gave only the second step.
    const before = await options.evaluate(async () => {
      type Area = { get(keys: null): Promise<Record<string, unknown>> };
      const { storage } = (globalThis as unknown as { chrome: { storage: { session: Area } } }).chrome;
      return storage.session.get(null);
    });
    expect(before.authSession).toBeUndefined();
    await options.screenshot({ path: join(SHOTS, 'sso-second-factor.png') });

    await options.keyboard.type(totpCode(totpSecret, new Date()));
    await options.keyboard.press('Enter');
    const signedIn = options.getByTestId('signed-in');
    await signedIn.filter({ hasText: TOTP_EMAIL }).waitFor({ timeout: 15_000 });
    await signedIn.filter({ hasText: 'Acme Dental' }).waitFor();
    await options.screenshot({ path: join(SHOTS, 'sso-second-factor-signed-in.png') });
    await signOut(options);
    await options.close();
  });
});
