// The collision guard (issue #19, item 4) with two reps in two browsers: while Sam composes in a
// conversation, Rita sees "… is typing" on the same contact; when Sam has answered the customer,
// Rita's send asks first whether to send hers as well. Screenshots in .artifacts/e2e/.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
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
import type { Ui } from './ui.ts';

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const VIEWPORT = { width: 1280, height: 800 };
const SAM = 'sam@acme-dental.example';
const RITA = 'rita@acme-dental.example';
const DRAFT = { label: 'Message', exact: true };

/** Runs the two-rep scenario with two browsers of `browserName`; skipped where it is not installed. */
export function collisionScenario(browserName: BrowserName): void {
  const available = browserAvailable(browserName);
  if (!available) console.log(`[e2e] skipping two reps in ${browserName}: the browser is not installed`);
  const shots = browserName === 'chromium' ? SHOTS : join(SHOTS, browserName);

  describe.skipIf(!available)(`two reps on one conversation in ${browserName}`, { timeout: 180_000 }, () => {
    const clock = daytimeAheadClock();
    let sandbox: SandboxRelay;
    let built = '';
    const browsers: ExtensionBrowser[] = [];
    let customer: DemoRecipient;
    const cleanup: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      await mkdir(shots, { recursive: true });
      const buildDir = await mkdtemp(join(tmpdir(), 'collision-e2e-'));
      cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
      [built, sandbox] = await Promise.all([
        buildExtensionInto(buildDir, browserName === 'chromium' ? 'chrome' : 'firefox', 'development'),
        startSandboxRelay(clock, [SAM, RITA]),
      ]);
      const found = demoRecipients(clock()).find(
        (r) => r.textableNow && r.contact.ref.objectType === 'contact',
      );
      if (found === undefined) throw new Error('no demo contact may be texted at noon in DC');
      customer = found;
      // Both reps have texted the customer: the conversation is each one's to see.
      await repTexts(sandbox.url, SAM, customer, 'Hi, Sam from Acme Dental here.');
      await repTexts(sandbox.url, RITA, customer, 'Hi, Rita from Acme Dental, about your crown.');
      await customerReplies(sandbox.url, customer, 'Can I come in earlier tomorrow?');
    }, 180_000);

    afterAll(async () => {
      for (const b of browsers) await b.close();
      await sandbox?.close();
      for (const fn of cleanup.reverse()) await fn();
    });

    /** A browser where `email` signed in, on the customer's record with the panel docked. */
    const repAt = async (email: string): Promise<{ page: Page; panel: Ui }> => {
      const browser = await launchWithExtension(browserName, {
        extensionPath: built,
        crmPort: 9,
        viewport: VIEWPORT,
      });
      browsers.push(browser);
      await signInExtension(browser, sandbox.recordOf(customer), sandbox.url, email);
      const page = await browser.open(sandbox.recordOf(customer));
      const panel = await panelOn(browser, page);
      await panel.waitFor({ css: 'li.inbound', hasText: 'Can I come in earlier tomorrow?' }, 15_000);
      return { page, panel };
    };

    it('shows Rita that Sam is typing, and asks her before she answers what Sam just answered', async () => {
      const sam = await repAt(SAM);
      const rita = await repAt(RITA);

      // 1. Sam starts an answer; Rita's panel on the same contact says so, live.
      await sam.page.bringToFront();
      await sam.panel.fill(DRAFT, 'Let me look at the calendar');
      await rita.page.bringToFront();
      await rita.panel.waitFor({ testId: 'typing', hasText: 'is typing' }, 10_000);
      expect(await rita.panel.textNow({ testId: 'typing' })).toContain('sam');
      await rita.page.screenshot({ path: join(shots, 'collision-typing.png') });

      // 2. Sam sends; the indicator goes and his answer shows in Rita's thread.
      await sam.page.bringToFront();
      await sam.panel.fill(DRAFT, 'Yes, 9 am works. See you then!');
      await sam.panel.press(DRAFT, 'Enter', true);
      await rita.page.bringToFront();
      await rita.panel.waitFor({ css: 'li.outbound', hasText: 'Yes, 9 am works.' }, 15_000);
      await expect.poll(() => rita.panel.exists({ testId: 'typing' }), { timeout: 10_000 }).toBe(false);

      // 3. Rita answers too: the panel asks first, and "Send anyway" sends hers.
      await rita.panel.fill(DRAFT, 'Hi! 9 am is free tomorrow.');
      await rita.panel.press(DRAFT, 'Enter', true);
      await rita.panel.waitFor({ testId: 'already-answered' }, 10_000);
      expect(await rita.panel.textNow({ testId: 'already-answered' })).toContain('Send yours as well?');
      // A question, not a failure: the button does not offer to "Retry".
      expect(await rita.panel.textNow({ testId: 'send' })).toBe('Send');
      await rita.page.screenshot({ path: join(shots, 'collision-already-answered.png') });
      await rita.panel.click({ button: 'Send anyway' });
      await rita.panel.waitFor({ css: 'li.outbound', hasText: 'Hi! 9 am is free tomorrow.' }, 15_000);
      expect(await rita.panel.exists({ testId: 'already-answered' })).toBe(false);
    });
  });
}
