// The admin console's identity and governance pages (issue #17 items 1–3) in a real Chromium:
// passkeys (added from "Your account", then signing in with one alone and as the second step),
// a custom role assigned to a rep, a legal hold placed and released, single sign-on configured
// from IdP metadata and used to sign in to the console (the account linked on the way), a forged
// SSO return refused, and a HubSpot account connected through its consent page.
// Screenshots in .artifacts/e2e/.
import { mkdirSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HUBSPOT_APP, testKey } from '../crm-sync/setup.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import {
  CUSTOMER,
  steerableDaytimeClock,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testUser,
} from '../helpers/relay.ts';
import { consoleRelay } from './admin-console-relay.ts';
import { CHROMIUM_PATH, chromiumAvailable } from './extension-harness.ts';
import { TinyIdp } from './tiny-idp.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(
    `[e2e] skipping admin console identity tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
  );

const ARTIFACTS = '.artifacts/e2e';
const OWNER = 'olive@acme.test';
/** An admin who signs in to the console through the org's identity provider. */
const SSO_ADMIN = 'sam@acme.test';
/** Where the HubSpot consent page would be; the browser test answers it as an approving admin. */
const HUBSPOT_AUTHORIZE = 'https://app.hubspot.test/oauth/authorize';

describe.skipIf(!hasChromium)('admin console identity pages in a browser', () => {
  const time = steerableDaytimeClock();
  let relay: TestRelay;
  let relayUrl: string;
  let org: TestOrg;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let idp: TinyIdp;
  let hubspot: HubSpotFake;

  const menu = (name: string) =>
    page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
  const shot = (p: Page, name: string) => p.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
  const signOut = async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You signed out.').waitFor();
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    hubspot = await startHubSpotFake({ oauth: HUBSPOT_APP });
    const crmOAuth = {
      hubspot: {
        clientId: HUBSPOT_APP.clientId,
        clientSecret: HUBSPOT_APP.clientSecret,
        authorizeBase: HUBSPOT_AUTHORIZE,
        tokenBase: hubspot.baseUrl,
      },
      salesforce: null,
    };
    // localhost, not 127.0.0.1: a passkey belongs to a domain, and an IP address is none.
    ({ relay, relayUrl, org } = await consoleRelay(time, {
      host: 'localhost',
      config: { secretsKey: testKey().bytes, crmOAuth },
    }));
    await testUser(relay.db, { orgId: org.orgId, email: OWNER, role: 'owner', now: relay.clock() });
    // The IdP writes its assertions with the relay's clock, so both agree on what is current.
    idp = await TinyIdp.start({ relayUrl, orgId: org.orgId, email: OWNER, now: time.clock });
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
    // The tiny IdP's certificate is self-signed.
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ignoreHTTPSErrors: true });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    // A platform authenticator that says yes, as a person touching their fingerprint reader would.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  }, 90_000);

  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') await shot(page, `debug-${test.task.name.slice(0, 30)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await idp?.close();
    await hubspot?.close();
    await relay?.close();
    await relay?.db.close();
  });

  it('adds a passkey, then signs in with it alone and as the step after the password', async () => {
    await page.goto(`${relayUrl}/admin`);
    await page.getByLabel('Email').fill(OWNER);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await menu('Your account').click();
    await page.getByText('No passkeys yet.').waitFor();
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText(/^Passkey added: use it/).waitFor();
    await page.getByRole('button', { name: /^Remove passkey added/ }).waitFor();
    await shot(page, 'admin-account-passkey');

    await signOut();
    await page.getByLabel('Email').fill(OWNER);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    // Back where the owner was when signing out.
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    await signOut();
    await page.getByLabel('Email').fill(OWNER);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText(/^Use your passkey\./).waitFor();
    await shot(page, 'admin-sign-in-passkey-step');
    await page.getByRole('button', { name: 'Use my passkey' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.getByText(/last used/).textContent()).toContain('last used');
  });

  it('creates a custom role from permissions the owner holds and assigns it to a rep', async () => {
    await menu('Custom roles').click();
    const form = page.getByRole('form', { name: 'Create a custom role' });
    await form.getByLabel(/^Name/).fill('billing_rep');
    await form.getByRole('checkbox', { name: /^Send texts/ }).check();
    await form.getByRole('checkbox', { name: /^Send payment links/ }).check();
    await form.getByRole('button', { name: 'Create role' }).click();
    await page.getByText('Created the role billing_rep with 7 permissions.').waitFor();
    await shot(page, 'admin-roles');

    await menu('Users and roles').click();
    const row = page.getByRole('row', { name: /rita@acme\.test/ });
    await row.getByRole('combobox').selectOption('billing_rep');
    await row.getByRole('button', { name: 'Save role' }).click();
    await page.getByText('rita@acme.test is now billing_rep.').waitFor();
  });

  it('places a legal hold on a contact and releases it after confirming', async () => {
    await menu('Legal holds').click();
    await page.getByText('No active holds').waitFor();
    const form = page.getByRole('form', { name: 'Place a legal hold' });
    await form.getByRole('textbox', { name: 'Contact’s phone number' }).fill(CUSTOMER);
    await form.getByLabel(/^Reason/).fill('Matter 2026-114: keep every text with this patient');
    await form.getByRole('button', { name: 'Place hold' }).click();
    await page.getByText(`Hold placed: Every conversation with ${CUSTOMER}.`).waitFor();
    await page.getByRole('cell', { name: 'Matter 2026-114: keep every text with this patient' }).waitFor();
    await shot(page, 'admin-legal-holds');
    await page.getByRole('button', { name: 'Release…' }).click();
    await page.getByRole('button', { name: 'Release: retention may purge it' }).click();
    await page.getByText(/^Released: Every conversation with/).waitFor();
    await page.getByText('No active holds').waitFor();
    const audit = await relay.db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE org_id = $1 AND action LIKE 'legal_hold.%' ORDER BY seq",
      [org.orgId],
    );
    expect(audit.map((a) => a.action)).toEqual(['legal_hold.placed', 'legal_hold.released']);
  });

  it('configures single sign-on from IdP metadata, asking for the password again after a while', async () => {
    await menu('Single sign-on').click();
    await page.getByText(`${relayUrl}/v1/sso/saml/${org.orgId}/acs`).waitFor();
    const form = page.getByRole('form', { name: 'Identity provider' });
    await form.getByLabel('IdP metadata file (XML)').setInputFiles({
      name: 'idp-metadata.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(idp.metadataXml()),
    });
    await form.getByText(/^Read idp-metadata\.xml/).waitFor();
    // The sign-in is no longer recent: configuring who may sign everyone in needs the password.
    time.advance(6 * 60_000);
    await form.getByRole('button', { name: 'Save identity provider' }).click();
    await page.getByText('REAUTH_REQUIRED').waitFor();
    await page.getByLabel('Your password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await form.getByRole('button', { name: 'Save identity provider' }).click();
    await page.getByText(/^Saved\. Try a test sign-in/).waitFor();
    await page.getByRole('link', { name: /^Test sign-in/ }).waitFor();
    await shot(page, 'admin-sso');
  });

  it('signs an admin in to the console through the IdP, linking their password account the first time', async () => {
    // An admin with a password of their own, whom the IdP names for the first time.
    await testUser(relay.db, { orgId: org.orgId, email: SSO_ADMIN, role: 'admin', now: relay.clock() });
    idp.email = SSO_ADMIN;
    await signOut();
    await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await page.getByLabel('Your organisation’s sign-in link or ID').fill(org.orgId);
    await page.getByRole('button', { name: 'Continue to your identity provider' }).click();
    await page.getByRole('form', { name: 'Link your account to single sign-on' }).waitFor();
    await shot(page, 'admin-sso-link');
    await page.getByLabel('Your password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Link my account' }).click();
    await page.getByText('Your account is linked').waitFor();
    // The organisation is remembered for the next sign-in.
    expect(await page.getByLabel('Your organisation’s sign-in link or ID').inputValue()).toBe(org.orgId);
    await page.getByRole('button', { name: 'Continue to your identity provider' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('banner').textContent()).toContain(`${SSO_ADMIN} (admin)`);
    expect(page.url()).toBe(`${relayUrl}/admin#/overview`);
  });

  it('refuses a code from a sign-in another tab started, even while this tab waits for its own', async () => {
    // The attacker signs in through SSO in their own tab, whose console never runs, and keeps the code.
    const attacker = await context.newPage();
    await attacker.route('**/admin/assets/**', (route) => route.abort());
    await attacker.goto(`${relayUrl}/admin`);
    const login = `${relayUrl}/v1/sso/saml/${org.orgId}/login?state=${'a'.repeat(32)}&return=console`;
    await attacker.goto(login);
    await attacker.waitForURL(/#\/sso-return\?code=/);
    const stolen = new URL(attacker.url()).hash;
    await attacker.close();

    // The victim's tab has a sign-in of its own pending at the IdP, then is sent the attacker's code.
    const victim = await context.newPage();
    victim.setDefaultTimeout(10_000);
    idp.mode = 'hold';
    await victim.goto(`${relayUrl}/admin`);
    await victim.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await victim.getByLabel('Your organisation’s sign-in link or ID').fill(org.orgId);
    await victim.getByRole('button', { name: 'Continue to your identity provider' }).click();
    await victim.getByText('Sign in to Example IdP').waitFor();
    await victim.goto(`${relayUrl}/admin${stolen}`);
    await victim.getByText('SSO_STATE_MISMATCH').waitFor();
    await victim.getByLabel('Password').waitFor();
    expect(victim.url()).not.toContain('code=');
    idp.mode = 'auto-post';
    await victim.close();
  });

  it('connects a HubSpot account through its consent page and comes back to the CRM page', async () => {
    await page.route(`${HUBSPOT_AUTHORIZE}**`, (route) => {
      // The admin approves at HubSpot, which sends the browser back to the relay with a code.
      const asked = new URL(route.request().url());
      const redirect = asked.searchParams.get('redirect_uri') ?? '';
      const back = new URL(redirect);
      back.searchParams.set('code', hubspot.issueAuthCode(redirect));
      back.searchParams.set('state', asked.searchParams.get('state') ?? '');
      return route.fulfill({ status: 302, headers: { location: back.toString() } });
    });
    await menu('CRM sync').click();
    await page.getByText('No CRM is connected yet').waitFor();
    await page.getByRole('button', { name: 'Connect HubSpot' }).click();
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    await page.getByRole('link', { name: 'Back to the admin console' }).click();
    await page.getByRole('rowheader', { name: 'hubspot' }).waitFor();
    await page.getByRole('button', { name: 'Reconnect HubSpot' }).waitFor();
    await shot(page, 'admin-crm-connected');
  });

  it('adds a sender number the SMS provider confirms, then routes its first replies to a rep', async () => {
    await menu('Templates and numbers').click();
    const form = page.getByRole('form', { name: 'Add a sender number' });
    await form.getByLabel(/^Number/).fill('(202) 555-0111');
    await form.getByLabel('Label shown to reps').fill('Front desk');
    await form.getByRole('button', { name: 'Add number' }).click();
    await page
      .getByText(/^Added \+12025550111 \(Long code \(local number\)\): your SMS provider confirmed/)
      .waitFor();
    const row = page.getByRole('row', { name: /\+12025550111/ });
    expect(await row.getByRole('textbox').inputValue()).toBe('Front desk');
    await row.getByRole('combobox').selectOption({ label: 'rita@acme.test (billing_rep)' });
    await row.getByRole('button', { name: 'Save +12025550111' }).click();
    await page.getByText('Saved +12025550111: Front desk, first replies to rita@acme.test.').waitFor();
    await shot(page, 'admin-numbers');
    const audit = await relay.db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE org_id = $1 AND action LIKE 'number.%' ORDER BY seq",
      [org.orgId],
    );
    expect(audit.map((a) => a.action)).toEqual(['number.added', 'number.updated']);
  });
});
