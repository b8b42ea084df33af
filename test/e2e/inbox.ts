// The inbox (issue #19) in a real browser: two customers reply on two contacts; the rep's inbox
// shows both unread with the count on the extension's icon; opening one opens its record in the
// tab with the panel docked on it, which reads it; the inbox then shows one unread.
// The relay is the one `npm start` runs (sandbox SMS and CRM). Screenshots in .artifacts/e2e/.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/passwords.ts';
import { loadConfig } from '../../server/config.ts';
import { secretsKey } from '../../server/crypto/secrets.ts';
import { type DemoRecipient, demoRecipients } from '../../server/demo-recipients.ts';
import { createFirstOrg } from '../../server/first-run.ts';
import { issueSetupToken } from '../../server/organisations/org-admin.ts';
import { SANDBOX_SENDER } from '../../server/routes/setup.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { freshPglite } from '../helpers/db.ts';
import { daytimeAheadClock, TEST_PASSWORD, testUser } from '../helpers/relay.ts';
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
const REP = 'sam@acme-dental.example';

/** Runs the inbox scenario in `browserName`; a machine without that browser says so and skips. */
export function inboxScenario(browserName: BrowserName): void {
  const available = browserAvailable(browserName);
  if (!available) console.log(`[e2e] skipping the inbox in ${browserName}: the browser is not installed`);
  const shots = browserName === 'chromium' ? SHOTS : join(SHOTS, browserName);

  describe.skipIf(!available)(`the inbox in ${browserName}`, { timeout: 180_000 }, () => {
    // Noon in Washington DC, whatever the real hour: the demo contacts below may be texted.
    const clock = daytimeAheadClock();
    let relay: Relay;
    let relayUrl = '';
    let eb: ExtensionBrowser | undefined;
    let customers: DemoRecipient[] = [];
    let bystander: DemoRecipient | undefined;
    const cleanup: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      await mkdir(shots, { recursive: true });
      const buildDir = await mkdtemp(join(tmpdir(), 'inbox-e2e-'));
      cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
      const [built, db, port] = await Promise.all([
        buildExtensionInto(buildDir, browserName === 'chromium' ? 'chrome' : 'firefox', 'development'),
        freshPglite(),
        freePort(),
      ]);
      relayUrl = `http://127.0.0.1:${port}`;
      const key = randomBytes(32);
      const config = loadConfig({
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: relayUrl,
        SMS_PROVIDER: 'sandbox',
        SECRETS_KEY: key.toString('base64'),
        LOG_LEVEL: 'silent',
        OUTBOX_WORKER: 'on',
      });
      relay = await startRelay(config, { db, logger: false, clock });
      await relay.app.listen({ port, host: '127.0.0.1' });
      const { orgId } = await createFirstOrg(relay.db, {
        token: await issueSetupToken(relay.db, clock()),
        orgName: 'Acme Dental',
        adminEmail: 'owner@acme-dental.example',
        passwordHash: await hashPassword(TEST_PASSWORD),
        now: clock(),
        sandboxSender: SANDBOX_SENDER,
        sandboxCrmKey: secretsKey(key),
      });
      await testUser(relay.db, { orgId, email: REP, role: 'rep', now: clock() });
      customers = demoRecipients(clock())
        .filter((r) => r.textableNow && r.contact.ref.objectType === 'contact')
        .slice(0, 2);
      if (customers.length < 2) throw new Error('fewer than two demo contacts may be texted at noon in DC');
      bystander = demoRecipients(clock()).find(
        (r) =>
          r.contact.ref.objectType === 'contact' &&
          !customers.some((c) => c.contact.ref.id === r.contact.ref.id),
      );
      await textedAndAnswered(relayUrl, customers);
      eb = await launchWithExtension(browserName, { extensionPath: built, crmPort: 9, viewport: VIEWPORT });
    }, 180_000);

    afterAll(async () => {
      await eb?.close();
      await relay?.close();
      await relay?.db.close();
      for (const fn of cleanup.reverse()) await fn();
    });

    const recordOf = (who: DemoRecipient) => `${relayUrl}/sandbox/crm/contacts/${who.contact.ref.id}`;
    const panelOn = async (page: Page): Promise<Ui> =>
      new Ui(await panelFrameIn(page, (eb as ExtensionBrowser).extensionOrigin, 15_000));
    /** The inbox page, opened from the panel on a record page as a rep can. */
    const openInbox = async (): Promise<Page> => {
      const browser = eb as ExtensionBrowser;
      let helper: Page | undefined;
      const inbox = await browser.openInbox(async () => {
        // (Firefox) from the panel on a third contact's record: one of theirs would be read by it.
        helper = await browser.open(recordOf(bystander as DemoRecipient));
        return (await panelOn(helper)).scope as Frame;
      });
      await helper?.close();
      await inbox.bringToFront();
      return inbox;
    };
    const badge = (page: Page): Promise<string> =>
      page.evaluate(() => {
        const api =
          (globalThis as unknown as { browser?: unknown; chrome?: unknown }).browser ??
          (globalThis as { chrome?: unknown }).chrome;
        return (api as { action: { getBadgeText(d: object): Promise<string> } }).action.getBadgeText({});
      });

    it('shows both replies unread with the count on the icon; opening one docks the panel on it and reads it', async () => {
      const browser = eb as ExtensionBrowser;
      await signIn(browser, recordOf(bystander as DemoRecipient), relayUrl, panelOn);
      const [first, second] = customers as [DemoRecipient, DemoRecipient];

      // 1. The inbox: both conversations unread, the newest reply first, and the icon's badge says 2.
      let inbox = await openInbox();
      let ui = new Ui(inbox);
      await ui.waitFor({ testId: 'unread-count', hasText: '2 unread' }, 15_000);
      expect(await ui.count('li[data-unread=true]')).toBe(2);
      expect(await ui.innerText({ css: 'li.inbox-row', hasText: first.contact.name })).toContain(
        'Is Thursday still ok?',
      );
      await expect.poll(() => badge(inbox), { timeout: 10_000 }).toBe('2');
      await inbox.screenshot({ path: join(shots, 'inbox-two-unread.png') });

      // 2. Opening the first opens its record in this tab, with the panel docked on that contact.
      await ui.click({ css: 'li.inbox-row button.open', hasText: first.contact.name });
      await inbox.waitForFunction(
        (path) => location.pathname === path,
        { timeout: 15_000 },
        new URL(recordOf(first)).pathname,
      );
      const panel = await panelOn(inbox);
      await expect
        .poll(() => panel.textNow({ testId: 'contact-name' }), { timeout: 15_000 })
        .toBe(first.contact.name);
      await panel.waitFor({ css: 'li.inbound', hasText: 'Is Thursday still ok?' }, 15_000);
      await inbox.screenshot({ path: join(shots, 'inbox-opened-record.png') });

      // 3. Shown is read: the inbox now has the second one unread only, and so has the badge.
      inbox = await openInbox();
      ui = new Ui(inbox);
      await ui.waitFor({ testId: 'unread-count', hasText: '1 unread' }, 15_000);
      expect(await ui.attributeNow({ css: 'li.inbox-row', hasText: first.contact.name }, 'data-unread')).toBe(
        'false',
      );
      expect(
        await ui.attributeNow({ css: 'li.inbox-row', hasText: second.contact.name }, 'data-unread'),
      ).toBe('true');
      await expect.poll(() => badge(inbox), { timeout: 10_000 }).toBe('1');
      // Keyboard: the first row's open button takes focus, Down moves to the next.
      await inbox.focus('li.inbox-row button.open');
      await inbox.keyboard.press('ArrowDown');
      expect(await inbox.evaluate(() => document.activeElement?.closest('li')?.textContent ?? '')).toContain(
        first.contact.name,
      );
      await inbox.screenshot({ path: join(shots, 'inbox-one-read.png') });
    });
  });
}

const VIEWPORT = { width: 1280, height: 800 };

/** The rep texts both customers (so replies route to them), and each customer answers. */
async function textedAndAnswered(relayUrl: string, customers: DemoRecipient[]): Promise<void> {
  const login = await fetch(`${relayUrl}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: REP, password: TEST_PASSWORD }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  for (const [i, who] of customers.entries()) {
    const consent = await fetch(`${relayUrl}/v1/consent`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        phone: who.phone,
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Agreed on the call',
      }),
    });
    if (consent.status !== 201) throw new Error(`opt-in refused: ${await consent.text()}`);
    // As the panel does on the record page before the rep texts: the relay learns the CRM's name.
    const looked = await fetch(
      `${relayUrl}/v1/contacts/lookup?crm=sandbox&objectType=contact&id=${who.contact.ref.id}`,
      { headers: auth },
    );
    if (looked.status !== 200) throw new Error(`lookup refused: ${await looked.text()}`);
    const sent = await fetch(`${relayUrl}/v1/messages`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': `inbox-e2e-${i}` },
      body: JSON.stringify({
        from: SANDBOX_SENDER,
        contact: { crm: 'sandbox', objectType: 'contact', id: who.contact.ref.id },
        body: 'Your appointment is on Thursday at 3 pm.',
      }),
    });
    if (sent.status !== 202) throw new Error(`text refused: ${await sent.text()}`);
  }
  // The replies: the second customer's comes last, so it is the newest.
  for (const [i, who] of customers.entries()) {
    const reply = await fetch(`${relayUrl}/sandbox/phone/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        handset: who.phone,
        service: SANDBOX_SENDER,
        text: i === 0 ? 'Is Thursday still ok?' : 'Can I bring my son too?',
      }),
    });
    if (reply.status !== 202) throw new Error(`the customer's reply was refused: ${await reply.text()}`);
  }
}

/** Signs the rep in on the extension's options page (Firefox opens it from a panel, as a rep would). */
async function signIn(
  browser: ExtensionBrowser,
  recordUrl: string,
  relayUrl: string,
  panelOn: (page: Page) => Promise<Ui>,
): Promise<void> {
  let helper: Page | undefined;
  const options = await browser.openOptions(async () => {
    helper = await browser.open(recordUrl);
    return (await panelOn(helper)).scope as Frame;
  });
  const ui = new Ui(options);
  await ui.waitFor({ button: 'Sign in', exact: true });
  await ui.fill({ label: 'Relay URL', exact: true }, relayUrl);
  await ui.fill({ label: 'Email', exact: true }, REP);
  await ui.fill({ label: 'Password', exact: true }, TEST_PASSWORD);
  await ui.click({ button: 'Sign in', exact: true });
  await ui.waitFor({ testId: 'signed-in' });
  await options.close();
  await helper?.close();
}
