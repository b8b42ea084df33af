// The pages a person meets before the extension (issue #16, items 1 and 7), in a real Chromium:
// setting up the installation, accepting an invitation from the sandbox mailbox, the authenticator
// step an org may require, and resetting a password. Screenshots in .artifacts/e2e/.
import { mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.ts';
import { issueSetupToken } from '../../server/organisations/org-admin.ts';
import { freshPglite } from '../helpers/db.ts';
import { TEST_PASSWORD, type TestRelay, testRelay } from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';
import { CHROMIUM_PATH, chromiumAvailable } from './extension-harness.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(
    `[e2e] skipping joining pages browser tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
  );

const ARTIFACTS = '.artifacts/e2e';
let relay: TestRelay;
let relayUrl: string;
let browser: Browser;
let ownerKey = '';

const shot = (page: Page, name: string) =>
  page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

describe.skipIf(!hasChromium)('joining pages in a browser', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The mailed links name the relay's own address, as PUBLIC_URL does in production.
    const port = await freePort();
    relayUrl = `http://127.0.0.1:${port}`;
    relay = await testRelay(await freshPglite(), { config: { publicUrl: relayUrl } });
    await relay.app.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await relay?.db.close();
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    return page;
  }

  it('keeps what the admin typed when setup refuses a password, and shows the key with a copy button', async () => {
    const token = await issueSetupToken(relay.db, relay.clock());
    const page = await open(`${relayUrl}/setup?token=${token}`);
    await page.getByLabel('Organisation name').fill('Acme Dental');
    await page.getByLabel('Your email').fill('owner@acme.test');
    await page.getByLabel('Choose a password').fill('password1234');
    await page.getByLabel('Type it again').fill('password1234');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByLabel('Organisation name').inputValue()).toBe('Acme Dental');
    expect(await page.getByLabel('Your email').inputValue()).toBe('owner@acme.test');
    expect(await page.getByLabel('Choose a password').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'setup-refused');
    await page.getByLabel('Choose a password').fill(TEST_PASSWORD);
    await page.getByLabel('Type it again').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    ownerKey = (await page.locator('#api-key').textContent())?.trim() ?? '';
    expect(ownerKey).toMatch(/^ctk_/);
    expect(await page.getByRole('button', { name: 'Copy key' }).isVisible()).toBe(true);
    await shot(page, 'setup-done');
    // Reloading re-posts the used link: a page that says so, never the JSON error.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.reload();
    // A page that says the link is used up and what to do next (sign in), never the JSON error.
    expect(await page.locator('h1').textContent()).toBe('This setup link is not valid');
    expect(await page.locator('main, body').first().innerText()).toContain('sign in from the extension');
    expect(await page.content()).not.toContain('{"error"');
    await shot(page, 'setup-reloaded');
    await page.close();
  });

  it('lets an invited rep choose a password from the link in the sandbox mailbox', async () => {
    const invited = await fetch(`${relayUrl}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'sam@acme.test', role: 'rep' }),
    });
    expect(invited.status).toBe(201);
    const page = await open(`${relayUrl}/sandbox/mail`);
    await shot(page, 'sandbox-mail');
    await page.locator('article', { hasText: 'sam@acme.test' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Join Acme Dental on CRM Texting' }).waitFor();
    await page.getByLabel('Choose a password').fill(TEST_PASSWORD);
    await page.getByLabel('Type it again').fill(`${TEST_PASSWORD} typo`);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByText('The two passwords differ').waitFor();
    await page.getByLabel('Choose a password').fill(TEST_PASSWORD);
    await page.getByLabel('Type it again').fill(TEST_PASSWORD);
    await shot(page, 'invite-accept');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: 'Welcome to CRM Texting' }).waitFor();
    await shot(page, 'invite-done');
    const signIn = await fetch(`${relayUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'sam@acme.test', password: TEST_PASSWORD }),
    });
    expect(signIn.status).toBe(201);
    await page.close();
  });

  it('walks a rep of an org that requires a second factor through the authenticator step', async () => {
    await relay.db.query(`UPDATE orgs SET settings = settings || '{"auth":{"requireSecondFactor":true}}'`);
    await fetch(`${relayUrl}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'kim@acme.test', role: 'rep' }),
    });
    const page = await open(`${relayUrl}/sandbox/mail`);
    await page.locator('article', { hasText: 'kim@acme.test' }).getByRole('link').first().click();
    await page.getByLabel('Choose a password').fill(TEST_PASSWORD);
    await page.getByLabel('Type it again').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Join' }).click();
    const secret = (await page.locator('#totp-key').textContent())?.trim() ?? '';
    await shot(page, 'invite-authenticator');
    // The authenticator app and the relay agree on the time: the relay's (pinned) clock.
    await page.getByLabel('Code from the app').fill(totpCode(secret, relay.clock()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('#recovery-codes').waitFor();
    await shot(page, 'invite-recovery-codes');
    await page.close();
    await relay.db.query(`UPDATE orgs SET settings = settings - 'auth'`);
  });

  it('resets a forgotten password from the mailed link', async () => {
    await fetch(`${relayUrl}/v1/auth/password-reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'sam@acme.test' }),
    });
    const page = await open(`${relayUrl}/sandbox/mail`);
    // The reset mail leaves after the answer: reload until it is in the mailbox.
    const mail = page.locator('article', { hasText: 'Reset your CRM Texting password' });
    for (let i = 0; i < 50 && (await mail.count()) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await page.reload();
    }
    await mail.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('New password').fill(`${TEST_PASSWORD} anew`);
    await page.getByLabel('Type it again').fill(`${TEST_PASSWORD} anew`);
    await shot(page, 'reset-password');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Password changed' }).waitFor();
    await page.close();
  });
});
