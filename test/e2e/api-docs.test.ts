// The API reference an integrator reads (/docs), in a real browser: it renders under the relay's CSP
// with no script, its table of contents works from the keyboard, and a route's section shows the
// fields, access and error codes the OpenAPI document holds.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import { type TestRelay, testRelay } from '../helpers/relay.ts';
import { CHROMIUM_PATH, chromiumAvailable, ROOT } from './extension-harness.ts';

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(
    `[e2e] skipping API reference browser tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
  );

let relay: TestRelay;
let relayUrl: string;
let browser: Browser;

describe.skipIf(!hasChromium)('the API reference page in a browser', () => {
  beforeAll(async () => {
    relay = await testRelay(await freshPglite());
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    relayUrl = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await relay?.db.close();
  });

  async function open(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      // The browser asks for /favicon.ico on its own; the relay has none, and that is not the page's fault.
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico'))
        problems.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const answer = await page.goto(`${relayUrl}/docs`);
    expect(answer?.status()).toBe(200);
    return { page, problems };
  }

  it('renders every area with its routes, and nothing the CSP refuses', async () => {
    const { page, problems } = await open();
    await expect(page.title()).resolves.toMatch(/API/i);
    for (const area of ['messages', 'conversations', 'consent', 'auth', 'users', 'crm', 'webhooks']) {
      await expect(page.locator(`#tag-${area}`).count()).resolves.toBe(1);
    }
    const send = page.locator('#post-v1-messages');
    await expect(send.innerText()).resolves.toContain('POST /v1/messages');
    await page.screenshot({ path: join(SHOTS, 'api-docs.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('moves from the table of contents to a route with the keyboard alone', async () => {
    const { page } = await open();
    const link = page.locator('a[href="#post-v1-messages"]').first();
    await link.focus();
    await expect(page.evaluate(() => document.activeElement?.getAttribute('href'))).resolves.toBe(
      '#post-v1-messages',
    );
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#post-v1-messages');
    const top = await page.locator('#post-v1-messages').evaluate((el) => el.getBoundingClientRect().top);
    expect(Math.abs(top)).toBeLessThan(120);
    await page.screenshot({ path: join(SHOTS, 'api-docs-send-route.png') });
    await page.close();
  });
});
