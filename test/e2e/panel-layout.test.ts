// @vitest-environment node

// The docked panel beside real-shaped CRM record pages at a common laptop size (issue #16, item 3):
// pinned, it moves the page aside so the record's right column stays uncovered; it resizes by drag
// and by keyboard, remembers its width per CRM, collapses to a tab, floats on request, and writes
// nothing under 13 px.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import { type TestRelay, testRelay } from '../helpers/relay.ts';
import { browserAvailable, type ExtensionBrowser, launchWithExtension } from './browsers.ts';
import { buildExtensionInto, ROOT, selfSignedCert } from './extension-harness.ts';
import { type Box, boxOf, dockState, fontsUnder, overlaps } from './layout-probes.ts';

const available = browserAvailable('chromium');
if (!available) console.log('[e2e] skipping the panel layout tests: no Chromium');

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const VIEWPORT = { width: 1440, height: 900 };
const FIXTURES = join(ROOT, 'test/e2e/fixtures');
const HUBSPOT = 'https://app.hubspot.com/contacts/8675309/record/0-1/51';
const SALESFORCE = 'https://acme.lightning.force.com/lightning/r/Contact/0035g00000ABCdeAAB/view';
const WAIT = { timeout: 5000 };

describe.skipIf(!available)('docked panel layout in Chromium at 1440×900', { timeout: 45_000 }, () => {
  let eb: ExtensionBrowser;
  let crm: Server;
  let relay: TestRelay;
  let sandboxUrl = '';
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    const buildDir = await mkdtemp(join(tmpdir(), 'panel-layout-e2e-'));
    cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
    // A development build: only it runs on the relay's sandbox CRM on loopback.
    const [extensionPath, cert, db, hubspotPage, salesforcePage] = await Promise.all([
      buildExtensionInto(buildDir, 'chrome', 'development'),
      selfSignedCert(),
      freshPglite(),
      readFile(join(FIXTURES, 'hubspot-record.html'), 'utf8'),
      readFile(join(FIXTURES, 'salesforce-record.html'), 'utf8'),
    ]);
    cleanup.push(cert.cleanup);
    relay = await testRelay(db);
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    sandboxUrl = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}/sandbox/crm/contacts/c-1001`;
    crm = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      const page = (req.headers.host ?? '').endsWith('.lightning.force.com') ? salesforcePage : hubspotPage;
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    });
    const crmPort = await new Promise<number>((resolve) =>
      crm.listen(0, '127.0.0.1', () => resolve((crm.address() as AddressInfo).port)),
    );
    eb = await launchWithExtension('chromium', { extensionPath, crmPort, viewport: VIEWPORT });
  }, 120_000);

  afterAll(async () => {
    await eb?.close();
    await new Promise((resolve) => (crm ? crm.close(resolve) : resolve(undefined)));
    await relay?.close();
    await relay?.db.close();
    for (const fn of cleanup.reverse()) await fn();
  });

  /** The panel's frame once it has rendered (unconfigured here: it asks to be set up). */
  async function panelFrame(page: Page): Promise<Frame> {
    let found: Frame | undefined;
    await expect
      .poll(() => {
        found = page.frames().find((f) => f.url().startsWith(`${eb.extensionOrigin}panel.html`));
        return found !== undefined;
      }, WAIT)
      .toBe(true);
    const frame = found as Frame;
    await frame.waitForFunction(() => document.body.innerText.includes('Texting is not set up yet'), WAIT);
    return frame;
  }

  /** A CRM record with the panel docked and rendered. */
  async function openRecord(url: string): Promise<{ page: Page; frame: Frame }> {
    const page = await eb.open(url);
    const frame = await panelFrame(page);
    return { page, frame };
  }

  /** Asserts that no part of the page's record lies under the open panel or the tabs on its edge. */
  async function expectUncovered(page: Page, selectors: string[]): Promise<Box> {
    const { panel, tab, pin, htmlMarginRight } = await dockState(page);
    expect(panel.width).toBeGreaterThan(0);
    expect(panel.right).toBe(VIEWPORT.width);
    expect(htmlMarginRight).toBe(`${panel.width + tab.width}px`);
    for (const selector of selectors) {
      const box = await boxOf(page, selector);
      expect(box.width, `${selector} is laid out`).toBeGreaterThan(0);
      for (const [name, dock] of Object.entries({ panel, tab, pin }))
        expect(overlaps(box, dock), `${selector} ${JSON.stringify(box)} under the ${name}`).toBe(false);
    }
    return panel;
  }

  it('moves a HubSpot record aside so the panel covers none of its right column, and gives the width back when it leaves a record', async () => {
    const { page } = await openRecord(HUBSPOT);
    try {
      const panel = await expectUncovered(page, ['[data-testid=right-column]', '[data-testid=account-menu]']);
      expect(panel.width).toBe(380);
      // The right column keeps its own width; the middle one gave way.
      expect((await boxOf(page, '[data-testid=right-column]')).width).toBe(360);
      await page.screenshot({ path: join(SHOTS, 'panel-pinned-hubspot.png') });

      await page.evaluate(() => history.pushState({}, '', '/contacts/8675309/objects/0-1/views/all/list'));
      await expect.poll(async () => (await dockState(page)).present, WAIT).toBe(false);
      expect((await dockState(page)).htmlMarginRight).toBe('');
      expect((await boxOf(page, '[data-testid=right-column]')).right).toBe(VIEWPORT.width);
    } finally {
      await page.close();
    }
  });

  it('moves a Salesforce record and its fixed global header aside', async () => {
    const { page } = await openRecord(SALESFORCE);
    try {
      await expectUncovered(page, [
        '[data-testid=right-column]',
        '[data-testid=global-header]',
        '[data-testid=header-actions]',
      ]);
      await page.screenshot({ path: join(SHOTS, 'panel-pinned-salesforce.png') });
    } finally {
      await page.close();
    }
  });

  it("moves the sandbox CRM's record aside", async () => {
    const { page } = await openRecord(sandboxUrl);
    try {
      await expectUncovered(page, ['main', 'main table td:last-child']);
      await page.screenshot({ path: join(SHOTS, 'panel-pinned-sandbox.png') });
    } finally {
      await page.close();
    }
  });

  it('resizes by dragging its edge and by the keyboard, and remembers the width for that CRM only', async () => {
    let { page } = await openRecord(HUBSPOT);
    try {
      const grip = await boxOf(page, 'crm-texting-panel >>> .grip');
      const x = grip.left + grip.width / 2;
      const y = grip.top + 300;
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x - 60, y, { steps: 4 });
      await page.mouse.move(x - 100, y, { steps: 4 });
      await page.mouse.up();
      let state = await dockState(page);
      expect(state.panel.width).toBe(480);
      await expectUncovered(page, ['[data-testid=right-column]']);

      await page.evaluate(() =>
        document.querySelector('crm-texting-panel')?.shadowRoot?.querySelector<HTMLElement>('.grip')?.focus(),
      );
      const before = state.panel.width;
      await page.keyboard.press('ArrowLeft');
      state = await dockState(page);
      expect(state.panel.width).toBe(before + 24);
      expect(state.gripValue).toBe(String(before + 24));
      await page.keyboard.press('End');
      expect((await dockState(page)).panel.width).toBe(640);
      await page.keyboard.press('Home');
      expect((await dockState(page)).panel.width).toBe(320);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      expect((await dockState(page)).panel.width).toBe(368);
      await expectUncovered(page, ['[data-testid=right-column]']);

      await page.close();
      ({ page } = await openRecord(HUBSPOT));
      await expect.poll(async () => (await dockState(page)).panel.width, WAIT).toBe(368);
      const salesforce = await openRecord(SALESFORCE);
      expect((await dockState(salesforce.page)).panel.width).toBe(380);
      await salesforce.page.close();
    } finally {
      await page.close();
    }
  });

  it('collapses to a tab on the edge, giving the page its width back, and reopens from the keyboard', async () => {
    const { page } = await openRecord(SALESFORCE);
    try {
      await page.click('crm-texting-panel >>> .toggle');
      let state = await dockState(page);
      expect(state.expanded).toBe('false');
      expect(state.panel.width).toBe(0);
      expect(state.htmlMarginRight).toBe('');
      expect((await boxOf(page, '[data-testid=right-column]')).right).toBeGreaterThan(VIEWPORT.width - 20);
      expect((await boxOf(page, '[data-testid=global-header]')).right).toBe(VIEWPORT.width);
      // The tab stays on the window's edge.
      expect(state.tab.right).toBe(VIEWPORT.width);
      expect(state.tab.width).toBeGreaterThan(20);
      await page.screenshot({ path: join(SHOTS, 'panel-collapsed.png') });

      await page.evaluate(() =>
        document
          .querySelector('crm-texting-panel')
          ?.shadowRoot?.querySelector<HTMLElement>('.toggle')
          ?.focus(),
      );
      await page.keyboard.press('Enter');
      state = await dockState(page);
      expect(state.expanded).toBe('true');
      expect(state.panel.width).toBe(380);
      await expectUncovered(page, ['[data-testid=right-column]', '[data-testid=global-header]']);
    } finally {
      await page.close();
    }
  });

  it('floats over the page when unpinned, and the choice sticks', async () => {
    let { page } = await openRecord(HUBSPOT);
    try {
      await page.click('crm-texting-panel >>> .pin');
      let state = await dockState(page);
      expect(state.pinned).toBe('false');
      expect(state.htmlMarginRight).toBe('');
      expect(overlaps(await boxOf(page, '[data-testid=right-column]'), state.panel)).toBe(true);
      await page.close();
      ({ page } = await openRecord(HUBSPOT));
      await expect.poll(async () => (await dockState(page)).pinned, WAIT).toBe('false');
      await page.click('crm-texting-panel >>> .pin');
      state = await dockState(page);
      expect(state.pinned).toBe('true');
      await expectUncovered(page, ['[data-testid=right-column]']);
    } finally {
      await page.close();
    }
  });

  it('writes no text under 13 px in the panel, on its dock or on the options page', async () => {
    const { page, frame } = await openRecord(HUBSPOT);
    try {
      expect(await fontsUnder(frame, 13)).toEqual([]);
      expect(await fontsUnder(page.mainFrame(), 13, 'crm-texting-panel')).toEqual([]);
      const options = await eb.openOptions(async () => frame);
      await options.waitForFunction(() => document.querySelectorAll('input').length > 0, WAIT);
      expect(await fontsUnder(options.mainFrame(), 13)).toEqual([]);
      await options.close();
    } finally {
      await page.close();
    }
  });
});
