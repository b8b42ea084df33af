// The inbox (issue #19) in a real browser: two customers reply on two contacts; the rep's inbox
// shows both unread with the count on the extension's icon; opening one opens its record in the
// tab with the panel docked on it, which reads it; the inbox then shows one unread.
// The relay is the one `npm start` runs (sandbox SMS and CRM). Screenshots in .artifacts/e2e/.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoRecipient, demoRecipients } from '../../server/demo-recipients.ts';
import { daytimeAheadClock } from '../helpers/relay.ts';
import {
  type BrowserName,
  browserAvailable,
  type ExtensionBrowser,
  launchWithExtension,
} from './browsers.ts';
import { buildExtensionInto, ROOT } from './extension-harness.ts';
import {
  customerReplies,
  panelOn,
  repTexts,
  type SandboxRelay,
  signInExtension,
  startSandboxRelay,
} from './sandbox-relay.ts';
import { Ui } from './ui.ts';

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const VIEWPORT = { width: 1280, height: 800 };
const REP = 'sam@acme-dental.example';

/** Runs the inbox scenario in `browserName`; a machine without that browser says so and skips. */
export function inboxScenario(browserName: BrowserName): void {
  const available = browserAvailable(browserName);
  if (!available) console.log(`[e2e] skipping the inbox in ${browserName}: the browser is not installed`);
  const shots = browserName === 'chromium' ? SHOTS : join(SHOTS, browserName);

  describe.skipIf(!available)(`the inbox in ${browserName}`, { timeout: 180_000 }, () => {
    // Noon in Washington DC, whatever the real hour: the demo contacts below may be texted.
    const clock = daytimeAheadClock();
    let sandbox: SandboxRelay;
    let eb: ExtensionBrowser | undefined;
    let customers: DemoRecipient[] = [];
    let bystander: DemoRecipient | undefined;
    const cleanup: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      await mkdir(shots, { recursive: true });
      const buildDir = await mkdtemp(join(tmpdir(), 'inbox-e2e-'));
      cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
      const [built, started] = await Promise.all([
        buildExtensionInto(buildDir, browserName === 'chromium' ? 'chrome' : 'firefox', 'development'),
        startSandboxRelay(clock, [REP]),
      ]);
      sandbox = started;
      const contacts = demoRecipients(clock()).filter((r) => r.contact.ref.objectType === 'contact');
      customers = contacts.filter((r) => r.textableNow).slice(0, 2);
      if (customers.length < 2) throw new Error('fewer than two demo contacts may be texted at noon in DC');
      bystander = contacts.find((r) => !customers.some((c) => c.contact.ref.id === r.contact.ref.id));
      for (const who of customers)
        await repTexts(sandbox.url, REP, who, 'Your appointment is on Thursday at 3 pm.');
      // The second customer's reply comes last, so it is the newest.
      await customerReplies(sandbox.url, customers[0] as DemoRecipient, 'Is Thursday still ok?');
      await customerReplies(sandbox.url, customers[1] as DemoRecipient, 'Can I bring my son too?');
      eb = await launchWithExtension(browserName, { extensionPath: built, crmPort: 9, viewport: VIEWPORT });
    }, 180_000);

    afterAll(async () => {
      await eb?.close();
      await sandbox?.close();
      for (const fn of cleanup.reverse()) await fn();
    });

    /** The inbox page, opened from the panel on a record page as a rep can. */
    const openInbox = async (): Promise<Page> => {
      const browser = eb as ExtensionBrowser;
      let helper: Page | undefined;
      const inbox = await browser.openInbox(async () => {
        // (Firefox) from the panel on a third contact's record: one of theirs would be read by it.
        helper = await browser.open(sandbox.recordOf(bystander as DemoRecipient));
        return (await panelOn(browser, helper)).scope as Frame;
      });
      await helper?.close();
      await inbox.bringToFront();
      return inbox;
    };
    const badge = (page: Page): Promise<string> =>
      page.evaluate(() => {
        const api =
          (globalThis as unknown as { browser?: unknown }).browser ??
          (globalThis as { chrome?: unknown }).chrome;
        return (api as { action: { getBadgeText(d: object): Promise<string> } }).action.getBadgeText({});
      });

    it('shows both replies unread with the count on the icon; opening one docks the panel on it and reads it', async () => {
      const browser = eb as ExtensionBrowser;
      await signInExtension(browser, sandbox.recordOf(bystander as DemoRecipient), sandbox.url, REP);
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
        new URL(sandbox.recordOf(first)).pathname,
      );
      const panel = await panelOn(browser, inbox);
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
