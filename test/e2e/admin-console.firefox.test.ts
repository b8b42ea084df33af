// The admin console (issue #17) in Firefox ESR, driven over WebDriver BiDi with the same Ui helper
// as the panel's scenarios: signing in with a password and an authenticator code, deactivating a rep
// (their token stops at once), deciding a review item, and the reports' charts and CSV download.
// The Chromium test (admin-console.test.ts) covers every page; this one the flows a browser's
// engine could break. Screenshots in .artifacts/e2e/firefox/.
import { mkdirSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.ts';
import { steerableDaytimeClock, TEST_PASSWORD } from '../helpers/relay.ts';
import { CONSOLE_ADMIN, type ConsoleRelay, consoleRelay } from './admin-console-relay.ts';
import { browserAvailable, FIREFOX_PATH } from './browsers.ts';
import { Ui } from './ui.ts';

const hasFirefox = browserAvailable('firefox');
if (!hasFirefox)
  console.log(`[e2e] skipping admin console Firefox tests: no Firefox at ${FIREFOX_PATH} (set FIREFOX_PATH)`);

const ARTIFACTS = '.artifacts/e2e/firefox';

describe.skipIf(!hasFirefox)('admin console in Firefox', () => {
  const time = steerableDaytimeClock();
  let relay: ConsoleRelay;
  let browser: Browser;
  let page: Page;
  let ui: Ui;
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
  const nav = (name: string) => ui.click({ css: 'nav a', text: name });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    relay = await consoleRelay(time);
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      defaultViewport: { width: 1280, height: 860 },
    });
    page = await browser.newPage();
    ui = new Ui(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.relay.close();
    await relay?.relay.db.close();
  });

  it('signs an admin in with a password, then an authenticator code', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${relay.relayUrl}/admin`);
    await ui.fill({ label: 'Email' }, CONSOLE_ADMIN);
    await ui.fill({ label: 'Password' }, 'not the password');
    await ui.click({ button: 'Sign in', exact: true });
    await ui.waitFor({ css: '[role=alert]', hasText: 'INVALID_CREDENTIALS' });
    await ui.fill({ label: 'Password' }, TEST_PASSWORD);
    await ui.click({ button: 'Sign in', exact: true });
    await ui.fill({ label: 'Code' }, totpCode(relay.secret, relay.relay.clock()));
    await ui.click({ button: 'Verify', exact: true });
    await ui.waitFor({ css: 'h1', text: 'Overview' });
    await shot('admin-overview');
    expect(errors).toEqual([]);
  });

  it('deactivates a rep, whose token stops at once', async () => {
    expect((await relay.api('GET', '/v1/me', relay.rep.auth)).statusCode).toBe(200);
    await nav('Users and roles');
    await ui.click({ button: 'Deactivate rita@acme.test', exact: true });
    await ui.click({ button: 'Yes, deactivate', exact: true });
    await ui.waitFor({ css: '[role=status]', hasText: 'rita@acme.test is deactivated' });
    await shot('admin-users');
    expect((await relay.api('GET', '/v1/me', relay.rep.auth)).statusCode).toBe(401);
  });

  it('decides a refused send in the review queue', async () => {
    await nav('Review queue');
    await ui.click({ label: 'Coach the rep (note required)' });
    await ui.fill({ label: 'Note', exact: true }, 'Check the consent badge first.');
    await ui.click({ button: 'Decide', exact: true });
    await ui.waitFor({ text: 'Nothing to review here.' });
    const closed = await relay.api('GET', '/v1/review-items?status=closed', relay.org.auth);
    expect(closed.json().items[0]).toMatchObject({
      decision: 'coach',
      note: 'Check the consent badge first.',
    });
  });

  it('draws the reports and saves their CSV', async () => {
    await nav('Reports');
    await ui.waitFor({ css: '.summary', hasText: '1 sent' });
    expect(await ui.count('.chart canvas')).toBe(2);
    await shot('admin-reports');
    await ui.click({ button: 'Download texts per day (CSV)', exact: true });
    await ui.waitFor({ css: '[role=status]', hasText: 'Saved daily-' });
    const [entry] = await relay.relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'export.daily_report'`,
      [relay.org.orgId],
    );
    expect(entry?.n).toBe(1);
  });
});
