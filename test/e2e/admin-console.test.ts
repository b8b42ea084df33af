// The admin console (issue #17) in a real Chromium against a relay with sandbox providers: signing
// in with a password and an authenticator code, deactivating a rep (their token stops at once),
// deciding a review item, checking the audit chain, the charts and a report's CSV download, and a
// rep who sees only what their role opens. Screenshots in .artifacts/e2e/.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  signedInUser,
  steerableDaytimeClock,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testUser,
} from '../helpers/relay.ts';
import { CONSOLE_ADMIN, type ConsoleRelay, consoleRelay } from './admin-console-relay.ts';
import { CHROMIUM_PATH, chromiumAvailable } from './extension-harness.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(
    `[e2e] skipping admin console browser tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
  );

const ARTIFACTS = '.artifacts/e2e';
const ADMIN = CONSOLE_ADMIN;

describe.skipIf(!hasChromium)('admin console in a browser', () => {
  const time = steerableDaytimeClock();
  let relay: TestRelay;
  let relayUrl: string;
  let browser: Browser;
  let org: TestOrg;
  let secret = '';
  let rep: ConsoleRelay['rep'];
  let api: ConsoleRelay['api'];
  let page: Page;

  /** A page of the console's menu. */
  const menu = (name: string) =>
    page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
  const shot = (p: Page, name: string) => p.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ relay, relayUrl, org, secret, rep, api } = await consoleRelay(time));
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    // A step that cannot happen fails with the locator it waited for, well inside the test's time.
    page.setDefaultTimeout(10_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await relay?.db.close();
  });

  it('signs an admin in with a password and an authenticator code', async () => {
    const problems: string[] = [];
    // The refused password's 401 is expected; any other failed load or script error is not.
    page.on(
      'console',
      (m) => m.type() === 'error' && !m.text().includes('status of 401') && problems.push(m.text()),
    );
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`${relayUrl}/admin`);
    await page.getByLabel('Email').fill(ADMIN);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('INVALID_CREDENTIALS');
    await shot(page, 'admin-sign-in-refused');
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByLabel('Code').fill(totpCode(secret, relay.clock()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Console' }).textContent()).toContain(
      'Users and roles',
    );
    await page.getByRole('link', { name: /1\+? open review items/ }).waitFor();
    await shot(page, 'admin-overview');
    // The strict policy (scripts and styles from the relay only) left the console whole.
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('walks the setup wizard: a test text delivered, the CRM plugin installed, compliance defaults saved', async () => {
    await menu('Setup').click();
    await page.getByRole('heading', { name: 'Sender numbers' }).waitFor();
    await page.getByLabel('Your mobile number').fill('+12025550142');
    // Nothing is recorded or sent until the admin says the number is theirs.
    expect(await page.getByRole('button', { name: 'Send a test text' }).isDisabled()).toBe(true);
    await page.getByLabel('This is my own mobile').check();
    await page.getByRole('button', { name: 'Send a test text' }).click();
    await page
      .getByText('Test text from +12025550100 to +12025550142: delivered.')
      .waitFor({ timeout: 20_000 });
    await shot(page, 'admin-setup-test-text');

    await page.getByRole('button', { name: 'Next: CRM' }).click();
    await page.getByRole('button', { name: 'Check what installing creates in sandbox' }).click();
    await page.getByRole('button', { name: 'Install in sandbox' }).click();
    await page.getByText(/Installed in sandbox: \d+ created, \d+ already there\./).waitFor();
    // Each field of the plan says what became of it.
    const results = await page.getByRole('cell', { name: /^(Created|Already there)$/ }).count();
    expect(results).toBeGreaterThan(0);
    await shot(page, 'admin-setup-crm');

    await page.getByRole('button', { name: 'Next: Payments' }).click();
    await page.getByText(/^Payment links are ready/).waitFor();
    await page.getByRole('button', { name: 'Next: Compliance defaults' }).click();
    const defaults = page.getByRole('form', { name: 'Compliance defaults' });
    await defaults.getByLabel('Name texts are identified with').fill('Acme Dental');
    await defaults.getByRole('button', { name: /^Save/ }).click();
    await defaults.getByText('Saved Name texts are identified with.').waitFor();
    await page.getByRole('button', { name: 'Next: Done' }).click();
    await page.getByText(/CRM plugin installed in sandbox: \d+ created/).waitFor();
    await shot(page, 'admin-setup-done');

    // The phone (the sandbox's simulator) got the text, and the install is on the record.
    const handset = await relay.sandbox.phoneState('+12025550142');
    expect(handset.messages.map((m) => m.body)).toEqual([expect.stringContaining('CRM Texting setup test')]);
    const [installed] = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'crm.installed'`,
      [org.orgId],
    );
    expect(installed?.n).toBe(1);
  });

  it('deactivates a rep from the users page, and their token stops at once', async () => {
    expect((await api('GET', '/v1/me', rep.auth)).statusCode).toBe(200);
    await menu('Users and roles').click();
    await page.getByRole('heading', { name: 'Users and roles' }).waitFor();
    await page.getByRole('button', { name: 'Deactivate rita@acme.test' }).click();
    await page.getByRole('button', { name: 'Yes, deactivate' }).click();
    await page.getByText('rita@acme.test is deactivated').waitFor();
    await page.getByRole('cell', { name: 'Deactivated' }).waitFor();
    await shot(page, 'admin-users');
    const after = await api('GET', '/v1/me', rep.auth);
    expect(after.statusCode).toBe(401);
  });

  it('decides a refused send in the review queue, with a note for the rep', async () => {
    await menu('Review queue').click();
    const card = page.getByRole('form', { name: /Refused send: OPTED_OUT/ });
    await card.waitFor();
    await card.getByLabel('Coach the rep (note required)').check();
    await card.getByLabel('Note', { exact: true }).fill('Check the consent badge before texting.');
    await shot(page, 'admin-review');
    await card.getByRole('button', { name: 'Decide' }).click();
    await page.getByText('Decided: Coach the rep').waitFor();
    await page.getByText('Nothing to review here.').waitFor();
    const closed = await api('GET', '/v1/review-items?status=closed', org.auth);
    expect(closed.json().items[0]).toMatchObject({
      reason: 'OPTED_OUT',
      decision: 'coach',
      note: 'Check the consent badge before texting.',
    });
  });

  it('verifies the audit chain and shows what the admin just did', async () => {
    await menu('Audit log').click();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByText(/The chain is intact: \d+ entries/).waitFor();
    await page.getByLabel('Action (exact, or a prefix ending in a dot)').fill('review.');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: 'review.decided' }).waitFor();
    await shot(page, 'admin-audit');
  });

  it('draws the period’s texts and consent changes, and downloads them as CSV', async () => {
    await menu('Reports').click();
    // The rep's text and the setup wizard's test text.
    await page.getByText(/2 sent, 0 received/).waitFor();
    expect(await page.locator('.chart canvas').count()).toBe(2);
    await page.getByRole('heading', { name: 'Compliance incidents' }).waitFor();
    await shot(page, 'admin-reports');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download texts per day (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^daily-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe('day,outbound,inbound,delivered,failed,deliveryRate,optIns,optOuts');
    expect(csv.length).toBe(31);
    await page.getByText(/Saved daily-/).waitFor();
  });

  it('shows a rep only the pages their role opens', async () => {
    await testUser(relay.db, { orgId: org.orgId, email: 'ray@acme.test', role: 'rep', now: relay.clock() });
    const other = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    await other.goto(`${relayUrl}/admin#/users`);
    await other.getByLabel('Email').fill('ray@acme.test');
    await other.getByLabel('Password').fill(TEST_PASSWORD);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.getByText('does not open that page').waitFor();
    const menu = await other.getByRole('navigation', { name: 'Console' }).textContent();
    expect(menu).toBe('OverviewTexting policyYour account');
    await shot(other, 'admin-rep-limited');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByText('You signed out.').waitFor();
    await other.close();
  });

  it('adds a template whose live preview the compliance preflight judges', async () => {
    await menu('Templates and numbers').click();
    const form = page.getByRole('form', { name: 'New template' });
    await form.getByLabel('Name').fill('Reminder');
    await form.getByLabel('Text').fill('Hi {{firstName}}, pay with card 4111 1111 1111 1111 please.');
    const preview = form.getByRole('region', { name: 'Preview' });
    await preview.getByText('Hi Jane, pay with card').waitFor();
    await preview.getByText('SENSITIVE_CONTENT').waitFor();
    await shot(page, 'admin-template-refused');
    await form.getByLabel('Text').fill('Hi {{firstName}}, your cleaning is on Friday at 10. {{repName}}');
    await preview.getByText(/Passes the content rules: 1 segment/).waitFor();
    await form.getByRole('button', { name: 'Add template' }).click();
    await page.getByText('Saved Reminder').waitFor();
    await shot(page, 'admin-templates');
    const me = await api('GET', '/v1/me', org.auth);
    expect(me.json().extension.templates).toEqual([
      expect.objectContaining({
        name: 'Reminder',
        body: 'Hi {{firstName}}, your cleaning is on Friday at 10. {{repName}}',
      }),
    ]);
  });

  it('publishes the texting policy; a rep refused for not acknowledging it acknowledges it and may text', async () => {
    await menu('Texting policy').click();
    const publish = page.getByRole('form', { name: 'Publish a new version' });
    await publish
      .getByLabel('Policy text')
      .fill('Acme texting policy\n\nHonour STOP at once. Never text a card number or a diagnosis.');
    await publish.getByRole('button', { name: 'Publish new version' }).click();
    await page.getByText('Published version 2').waitFor();
    // As the operator would with `npm run cli -- org settings` (the settings page is tested below).
    await setOrgSetting(relay.db, org.orgId, 'requirePolicyAcknowledgement', 'true', {
      actor: 'cli',
      at: relay.clock(),
    });

    const pat = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'pat@acme.test',
      role: 'rep',
      now: relay.clock(),
    });
    // A customer no earlier test texted, so no frequency cap answers first.
    const patient = '+12025550188';
    await optIn(relay.app, org, patient);
    const text = () =>
      api('POST', '/v1/messages', { ...pat.auth, 'idempotency-key': idemKey() } as never, {
        from: org.sender,
        to: patient,
        body: 'See you on Friday.',
      });
    const refused = await text();
    expect(refused.json().error, refused.body).toMatchObject({
      code: 'POLICY_NOT_ACKNOWLEDGED',
      details: { readAt: '/admin#/policy' },
    });

    const rep = await browser.newPage({ viewport: { width: 1024, height: 760 } });
    rep.setDefaultTimeout(10_000);
    await rep.goto(`${relayUrl}${refused.json().error.details.readAt}`);
    await rep.getByLabel('Email').fill('pat@acme.test');
    await rep.getByLabel('Password').fill(TEST_PASSWORD);
    await rep.getByRole('button', { name: 'Sign in', exact: true }).click();
    await rep.getByRole('heading', { name: 'Texting policy' }).waitFor();
    await rep.getByText('You have not acknowledged the policy yet').waitFor();
    expect(await rep.getByRole('article').textContent()).toContain('Never text a card number');
    await shot(rep, 'admin-policy-rep');
    await rep.getByRole('button', { name: 'I have read this policy and will follow it' }).click();
    await rep.getByText('your acknowledgement of version 2 is recorded').waitFor();
    await rep.close();
    expect((await text()).statusCode).toBe(202);

    await page.reload();
    await page.getByRole('heading', { name: 'Who has acknowledged' }).waitFor();
    const row = page.getByRole('row', { name: /pat@acme\.test/ });
    expect(await row.textContent()).toContain('Acknowledged');
    await shot(page, 'admin-policy');
  });

  it('saves compliance settings with progress, marks a refused value, and asks for the password before a sign-in policy', async () => {
    await menu('Compliance settings').click();
    const replies = page.getByRole('form', { name: 'Identification and keyword replies' });
    await replies.getByLabel('HELP reply').fill('Acme Dental: reply STOP to opt out. Help: 202-555-0100.');
    await replies.getByRole('button', { name: /^Save/ }).click();
    await replies.getByText('Saved HELP reply.').waitFor();

    const consent = page.getByRole('form', { name: 'Consent and quiet hours' });
    await consent.getByLabel('Double opt-in').check();
    await consent.getByLabel('Default country').fill('ZZ');
    await consent.getByRole('button', { name: /^Save/ }).click();
    await consent.getByRole('alert').waitFor();
    // Double opt-in went first and is saved; the country is refused and marked.
    await consent.getByText('Saved 1 of 2; the rest were not saved.').waitFor();
    expect(await consent.getByLabel('Default country').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'admin-settings-refused');
    await consent.getByLabel('Default country').fill('CA');
    await consent.getByRole('button', { name: /^Save/ }).click();
    await consent.getByText('Saved Default country.').waitFor();
    // The org's own hours, stricter than the law's.
    await consent.getByLabel('Your texting hours (recipient’s time)').fill('9:00-18:00');
    await consent.getByLabel('Days you text').fill('Mon, Tue, Wed, Thu, Fri');
    await consent.getByRole('button', { name: /^Save/ }).click();
    await consent.getByText('Saved 2 settings.').waitFor();

    // Past the five minutes a sign-in counts as recent: a sign-in policy asks for the password.
    time.advance(6 * 60_000);
    const policy = page.getByRole('form', { name: 'Sign-in policy' });
    await policy.getByLabel('Require a second factor').check();
    await policy.getByRole('button', { name: /^Save/ }).click();
    const confirm = page.getByRole('form', { name: 'Confirm it is you' });
    await confirm.getByLabel('Your password').fill(TEST_PASSWORD);
    await confirm.getByLabel('Your password').press('Enter');
    await confirm.waitFor({ state: 'detached' });
    await policy.getByRole('button', { name: /^Save/ }).click();
    await policy.getByText('Saved Require a second factor.').waitFor();
    await shot(page, 'admin-settings');
    const stored = await api('GET', '/v1/org/settings', org.auth);
    const value = (key: string) =>
      (stored.json().settings as { key: string; value: unknown }[]).find((s) => s.key === key)?.value;
    expect(value('helpReply')).toContain('Acme Dental');
    expect(value('doubleOptIn')).toBe(true);
    expect(value('defaultCountry')).toBe('CA');
    expect(value('quietHours.window')).toBe('09:00-18:00');
    expect(value('quietHours.days')).toBe('mon,tue,wed,thu,fri');
    expect(value('auth.requireSecondFactor')).toBe(true);
  });

  it('replays a CRM write that failed for good, and resolves an anomaly alert with a note', async () => {
    const connection = randomUUID();
    await relay.db.query(
      `INSERT INTO crm_connections (id, org_id, crm, secrets, status, status_detail, event_cursor_tx, event_cursor_id, consent_cursor_tx, consent_cursor_id)
       VALUES ($1, $2, 'hubspot', 'v1:00000000:AAAA', 'disconnected', 'token revoked in HubSpot', 0, 0, 0, 0)`,
      [connection, org.orgId],
    );
    const [job] = await relay.db.query<{ id: number }>(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject, state) VALUES ($1, $2, 'consent', $3, 'dead') RETURNING id`,
      [connection, org.orgId, CUSTOMER],
    );
    await relay.db.query(
      `INSERT INTO crm_dead_letters (id, org_id, connection_id, job_id, kind, subject, error_code, error_message, attempts)
       VALUES ($1, $2, $3, $4, 'consent', $5, 'invalid_request', 'Property sms_opt_in does not exist', 8)`,
      [randomUUID(), org.orgId, connection, job?.id, CUSTOMER],
    );
    await menu('CRM sync').click();
    await page.getByRole('cell', { name: 'Not answering: disconnected' }).waitFor();
    await page.getByText('Property sms_opt_in does not exist').waitFor();
    await shot(page, 'admin-crm-sync');
    await page.getByRole('button', { name: 'Replay consent write' }).click();
    await page.getByText(/Queued the consent write/).waitFor();
    await page.getByText('None: every write reached its CRM.').waitFor();

    await relay.db.query(
      `INSERT INTO anomaly_alerts (id, org_id, subject, metric, bucket_start, observed, expected, deviation, created_at)
       VALUES ($1, $2, 'org', 'outbound', $3, 480, 20, 9.5, $3)`,
      [randomUUID(), org.orgId, relay.clock()],
    );
    await menu('Anomaly alerts').click();
    const alert = page.getByRole('form', { name: /Resolve: The organisation: 480 texts sent/ });
    await alert.getByLabel('What you found').fill('Planned appointment reminders for the new clinic.');
    await shot(page, 'admin-alerts');
    await alert.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText('Resolved.', { exact: true }).waitFor();
    // Gone from the open alerts (sign-ins from new devices may still be there).
    await alert.waitFor({ state: 'detached' });
    const [row] = await relay.db.query<{ resolution_note: string }>(
      'SELECT resolution_note FROM anomaly_alerts WHERE org_id = $1',
      [org.orgId],
    );
    expect(row?.resolution_note).toBe('Planned appointment reminders for the new clinic.');
  });
});
