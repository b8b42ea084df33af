// The README's walkthrough, "A rep's first hour", as one browser scenario (issue #16): the owner sets
// up the installation, invites a rep, the rep accepts from the sandbox mailbox, signs in to the
// extension, restarts the browser and is still signed in, then records a demo contact's opt-in,
// texts them from the sandbox CRM and asks for a payment, which the customer makes on the sandbox
// checkout (issue #15), and sees it paid in the thread and on the CRM record. The relay is the one `npm start` runs, on an empty database.
// One screenshot per step in .artifacts/e2e/walkthrough-*.png (Firefox: .artifacts/e2e/firefox/).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { firstTextableDemoRecipient } from '../../server/demo-recipients.ts';
import { issueSetupToken } from '../../server/organisations/org-admin.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { freshPglite } from '../helpers/db.ts';
import { daytimeAheadClock } from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';
import {
  type BrowserName,
  browserAvailable,
  type ExtensionBrowser,
  launchWithExtension,
  panelFrameIn,
} from './browsers.ts';
import { buildExtensionInto, ROOT } from './extension-harness.ts';
import { Ui } from './ui.ts';

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const VIEWPORT = { width: 1440, height: 900 };
const OWNER = {
  org: 'Acme Dental',
  email: 'owner@acme-dental.example',
  password: 'lantern orchard copper kite',
};
const REP = { email: 'sam@acme-dental.example', password: 'plum tractor evening lantern' };

/** Runs the walkthrough in `browserName`; a machine without that browser says so and skips. */
export function walkthrough(browserName: BrowserName): void {
  const available = browserAvailable(browserName);
  if (!available)
    console.log(`[e2e] skipping the README walkthrough in ${browserName}: the browser is not installed`);
  const shots = browserName === 'chromium' ? SHOTS : join(SHOTS, browserName);

  describe.skipIf(!available)(`the README's walkthrough in ${browserName}`, { timeout: 240_000 }, () => {
    // Noon in Washington DC when it starts, whatever the real hour, so a demo contact is textable.
    const clock = daytimeAheadClock();
    let relay: Relay;
    let relayUrl = '';
    let extensionPath = '';
    let profileDir = '';
    let eb: ExtensionBrowser | undefined;
    const cleanup: Array<() => Promise<void>> = [];
    let step = 0;

    /** The step's screenshot, numbered in the order the README tells it. */
    const shot = async (page: Page, name: string): Promise<void> => {
      step += 1;
      await page.screenshot({ path: join(shots, `walkthrough-${step}-${name}.png`) });
    };

    const launch = async (): Promise<ExtensionBrowser> => {
      // No HTTPS CRM in this story: the sandbox CRM is served by the relay itself.
      eb = await launchWithExtension(browserName, {
        extensionPath,
        crmPort: 9,
        viewport: VIEWPORT,
        profileDir,
      });
      return eb;
    };

    beforeAll(async () => {
      await mkdir(shots, { recursive: true });
      const buildDir = await mkdtemp(join(tmpdir(), 'walkthrough-e2e-'));
      profileDir = await mkdtemp(join(tmpdir(), 'walkthrough-profile-'));
      cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
      cleanup.push(() => rm(profileDir, { recursive: true, force: true }));
      const [built, db, port] = await Promise.all([
        // The development build, as `npm start` makes it: only it docks on the sandbox CRM on loopback.
        buildExtensionInto(buildDir, browserName === 'chromium' ? 'chrome' : 'firefox', 'development'),
        freshPglite(),
        freePort(),
      ]);
      extensionPath = built;
      relayUrl = `http://127.0.0.1:${port}`;
      const config = loadConfig({
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: relayUrl,
        SMS_PROVIDER: 'sandbox',
        SECRETS_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'silent',
        OUTBOX_WORKER: 'on',
      });
      relay = await startRelay(config, { db, logger: false, clock });
      await relay.app.listen({ port, host: '127.0.0.1' });
    }, 180_000);

    afterAll(async () => {
      await eb?.close();
      await relay?.close();
      await relay?.db.close();
      for (const fn of cleanup.reverse()) await fn();
    });

    const panelOn = async (page: Page, browser: ExtensionBrowser): Promise<Ui> =>
      new Ui(await panelFrameIn(page, browser.extensionOrigin, 15_000));

    it('goes from an empty installation to a rep texting a contact and being paid by link, signed in across a browser restart', async () => {
      const browser = await launch();

      // 1. The owner opens the one-time setup link `npm start` prints and creates the organisation.
      const setup = await browser.open(`${relayUrl}/setup?token=${await issueSetupToken(relay.db, clock())}`);
      const setupUi = new Ui(setup);
      await setupUi.fill({ label: 'Organisation name' }, OWNER.org);
      await setupUi.fill({ label: 'Your email' }, OWNER.email);
      await setupUi.fill({ label: 'Choose a password' }, OWNER.password);
      await setupUi.fill({ label: 'Type it again' }, OWNER.password);
      await setupUi.click({ button: 'Create organisation' });
      await setupUi.waitFor({ css: '#api-key' });
      const ownerKey = (await setupUi.text({ css: '#api-key' })).trim();
      expect(ownerKey).toMatch(/^ctk_/);
      await shot(setup, 'setup-done');

      // 2. The owner invites a rep with the key from the setup page (README: POST /v1/users).
      const invite = await fetch(`${relayUrl}/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: REP.email, role: 'rep', displayName: 'Sam Rep' }),
      });
      expect(invite.status, await invite.clone().text()).toBe(201);

      // 3. The rep finds the invitation in the sandbox mailbox and follows its link.
      const mail = await browser.open(`${relayUrl}/sandbox/mail`);
      const mailUi = new Ui(mail);
      await mailUi.waitFor({ css: 'article', hasText: REP.email });
      await shot(mail, 'invite-in-mailbox');
      const link = await mail.$eval('article a[href*="/auth/"]', (a) => (a as HTMLAnchorElement).href);
      await mail.goto(link);
      await mailUi.fill({ label: 'Choose a password' }, REP.password);
      await mailUi.fill({ label: 'Type it again' }, REP.password);
      await shot(mail, 'invite-accept');
      await mailUi.click({ button: 'Join' });
      await mailUi.waitFor({ css: 'h1', hasText: 'Welcome to CRM Texting' });
      // The page names the relay URL the extension will ask for.
      const toEnter = (await mailUi.text({ css: '#relay-url' })).trim();
      expect(toEnter).toBe(relayUrl);
      await shot(mail, 'joined');

      // 4. The rep signs in to the extension on its options page.
      // (Firefox opens the options only from an extension page: from the panel, as a rep would.)
      const who = firstTextableDemoRecipient(clock());
      if (who === null) throw new Error('no demo contact may be texted at the relay clock’s noon in DC');
      const recordUrl = `${relayUrl}/sandbox/crm/contacts/${who.contact.ref.id}`;
      let helper: Page | undefined;
      const options = await browser.openOptions(async () => {
        helper = await browser.open(recordUrl);
        return (await panelOn(helper, browser)).scope as Frame;
      });
      await helper?.close();
      const optionsUi = new Ui(options);
      await optionsUi.waitFor({ button: 'Sign in', exact: true });
      await optionsUi.fill({ label: 'Relay URL', exact: true }, toEnter);
      await optionsUi.fill({ label: 'Email', exact: true }, REP.email);
      await optionsUi.fill({ label: 'Password', exact: true }, REP.password);
      await optionsUi.click({ button: 'Sign in', exact: true });
      await optionsUi.waitFor({ testId: 'signed-in' });
      await shot(options, 'extension-signed-in');

      // 5. The browser closes at the end of the day and starts again on the same profile.
      await eb?.close();
      eb = undefined;
      const again = await launch();

      // 6. Still signed in: the sandbox CRM's contact page has the panel with the contact from the relay.
      const record = await again.open(recordUrl);
      const panel = await panelOn(record, again);
      await expect
        .poll(() => panel.textNow({ testId: 'contact-name' }), { timeout: 15_000 })
        .toBe(who.contact.name);
      expect(await panel.exists({ css: '[data-state=unconfigured]' })).toBe(false);
      await shot(record, 'still-signed-in-after-restart');

      // 7. The customer agreed on a call: the rep records the opt-in with its evidence.
      await panel.click({ button: 'Mark opted in…' });
      await panel.fill({ label: 'Evidence' }, 'Agreed on the call of today with Sam, ticket #4411');
      await panel.click({ button: 'Record opt-in' });
      await expect
        .poll(() => panel.attributeNow({ css: '[data-consent]' }, 'data-consent'), { timeout: 10_000 })
        .toBe('opted_in');
      await shot(record, 'opted-in');

      // 8. The rep texts the contact (Ctrl+Enter sends) and sees it delivered.
      const body = 'Hi! Your appointment is confirmed for Thursday at 3 pm.';
      const draft = { label: 'Message', exact: true };
      await panel.fill(draft, body);
      await panel.press(draft, 'Enter', true);
      const sent = { css: 'li.outbound[data-message-id]', hasText: body };
      await panel.waitFor(sent);
      await expect.poll(() => panel.attributeNow(sent, 'data-status'), { timeout: 15_000 }).toBe('delivered');
      await shot(record, 'texted');

      // 9. The customer's phone (the sandbox phone simulator) has it.
      const phone = await again.open(`${relayUrl}/sandbox/phone?handset=${encodeURIComponent(who.phone)}`);
      await new Ui(phone).waitFor({ css: 'body', hasText: body }, 15_000);
      await shot(phone, 'customer-phone');

      await payByLink(record, panel, phone);
    });

    /**
     * README "Payment links": the rep asks for a payment from the panel, the text with our link
     * reaches the customer's phone, the customer pays on the sandbox checkout, and the thread shows
     * "Paid" live. The card number never passes the relay: the sandbox page stands in for Stripe's.
     */
    const payByLink = async (record: Page, panel: Ui, phone: Page): Promise<void> => {
      // 10. The rep fills the request; the preview shows the exact text before anything is sent.
      await record.bringToFront();
      await panel.click({ button: 'Request payment…' });
      await panel.fill({ label: 'Amount' }, '125.50');
      await panel.fill({ label: 'What it is for' }, 'Crown fitting');
      await panel.fill({ label: 'Invoice or deal reference' }, 'INV-1042');
      await panel.waitFor({ testId: 'payment-preview', hasText: '$125.50' });
      await shot(record, 'payment-preview');
      await panel.click({ button: 'Send payment request', exact: true });
      const card = { testId: 'payment-request', hasText: 'Crown fitting' };
      await panel.waitFor(card);
      expect(await panel.attributeNow(card, 'data-status')).toBe('sent');
      await shot(record, 'payment-requested');

      // 11. The customer's phone gets our own link (never a card form in a text).
      await phone.bringToFront();
      await phone.reload();
      const phoneUi = new Ui(phone);
      await phoneUi.waitFor({ css: 'body', hasText: 'Pay securely' }, 15_000);
      const text = await phone.evaluate(() => document.body.innerText);
      const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(text)?.[0];
      expect(link, text).toBeDefined();

      // 12. They open it: the business, the amount, and "we never ask for card numbers by text".
      await phone.goto(link as string);
      await phoneUi.waitFor({ css: 'body', hasText: 'never ask for card numbers' });
      await shot(phone, 'payment-page');
      await phoneUi.click({ button: 'Pay $125.50' });

      // 13. The sandbox checkout stands in for Stripe's page; they pay there.
      await phoneUi.waitFor({ css: 'button[data-action=pay]' }, 15_000);
      await shot(phone, 'sandbox-checkout');
      await phoneUi.click({ css: 'button[data-action=pay]' });
      await phone.waitForFunction(() => location.pathname.endsWith('/done'), { timeout: 15_000 });

      // 14. "Paid" reaches the thread live, from the provider's signed event.
      await record.bringToFront();
      await expect.poll(() => panel.attributeNow(card, 'data-status'), { timeout: 15_000 }).toBe('paid');
      expect(await panel.textNow({ testId: 'payment-status' })).toBe('Paid');
      await shot(record, 'paid-in-thread');

      // 15. And on the contact's CRM record: setup connected the sandbox CRM, and the CRM sync
      // wrote the request there (amount, what for, reference, how it was paid: never the card).
      const paidRow = { css: 'td[data-payment-status=paid]', hasText: 'Paid' };
      const recordUi = new Ui(record);
      await expect
        .poll(
          async () => {
            await record.reload();
            return recordUi.exists(paidRow);
          },
          { timeout: 20_000, interval: 1_000 },
        )
        .toBe(true);
      const entry = await record.$eval('table[data-payments]', (t) => (t as HTMLElement).innerText);
      expect(entry).toContain('Crown fitting');
      expect(entry).toContain('INV-1042');
      expect(entry).toMatch(/125\.50/);
      await record.$eval('table[data-payments]', (t) => t.scrollIntoView());
      await shot(record, 'paid-on-crm-record');
    };
  });
}
