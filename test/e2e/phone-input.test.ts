// A phone number typed as people write it, in a real browser (issue #16, item 4). The extension's
// panel takes no number (it texts the CRM record's phone), so this is the phone simulator's number
// field: "+1 (202) 555-0143" texts the relay as +12025550143, and a non-number is refused in words.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { CHROMIUM_PATH, chromiumAvailable, ROOT } from './extension-harness.ts';

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(
    `[e2e] skipping the phone input browser test: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
  );

let relay: TestRelay;
let org: TestOrg;
let relayUrl: string;
let browser: Browser;

describe.skipIf(!hasChromium)('a phone number typed as people write it', () => {
  beforeAll(async () => {
    const db = await freshPglite();
    relay = await testRelay(db);
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    relayUrl = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}`;
    org = await seedOrg(db);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox'],
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await relay?.db.close();
  });

  it('texts the relay from "+1 (202) 555-0143" and shows the text on that phone', async () => {
    const page = await browser.newPage();
    await page.goto(`${relayUrl}/sandbox/phone`);
    await page.locator(`#service option[value="${org.sender}"]`).waitFor({ state: 'attached' });

    await page.fill('#handset', 'call me');
    await page.fill('#text', 'Hello?');
    await page.click('button[type=submit]');
    await expect
      .poll(() => page.textContent('#status'))
      .toBe("Enter this phone's number, like 202-555-0143 or +44 20 7946 0958.");

    // Digits enough for the page, but no country has code 999: the relay says why, in words.
    await page.fill('#handset', '+999 123 4567');
    await page.click('button[type=submit]');
    await expect
      .poll(() => page.textContent('#status'))
      .toBe(
        '"handset" (+999 123 4567) starts with a country code that does not exist. Enter a phone number like 202-555-0143 or +44 20 7946 0958.',
      );

    await page.fill('#handset', '+1 (202) 555-0143');
    await page.fill('#text', 'Is 3pm still fine?');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#status')).toBe('Delivered to the relay.');
    const rows = await relay.db.query<{ handset: string }>(
      `SELECT handset_e164 AS handset FROM sandbox_sms WHERE direction = 'from_handset' AND body = $1`,
      ['Is 3pm still fine?'],
    );
    expect(rows).toEqual([{ handset: '+12025550143' }]);
    // The page reads the phone's texts by the number as typed: the relay normalises it.
    await page.locator('#thread [data-direction=from_handset]', { hasText: 'Is 3pm still fine?' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'phone-input.png'), fullPage: true });
    await page.close();
  });
});
