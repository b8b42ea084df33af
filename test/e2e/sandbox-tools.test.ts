// The sandbox tools in a real browser (issue #13, finding 6): the phone simulator still works from
// its own page, while another site's page cannot text STOP through it and a rebound DNS name
// cannot read the sandbox mailbox. Chromium sets Origin, Sec-Fetch-Site and Host itself here.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import { CUSTOMER, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { CHROMIUM_PATH, chromiumAvailable } from './extension-harness.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(
    `[e2e] skipping sandbox tools browser tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
  );

let relay: TestRelay;
let org: TestOrg;
let relayUrl: string;
let relayPort: number;
let attacker: Server;
let attackerPort: number;
let browser: Browser;

/** Another site's page: it auto-submits a form that would text STOP as the customer. */
const attackPage = (target: string, handset: string, service: string): string =>
  `<!doctype html><html><body><form id="f" method="post" action="${target}/sandbox/phone/api/send">` +
  `<input name="handset" value="${handset}"><input name="service" value="${service}"><input name="text" value="STOP">` +
  `</form><script>document.getElementById('f').submit()</script></body></html>`;

async function textsFromHandset(body: string): Promise<number> {
  const rows = await relay.db.query(
    `SELECT 1 FROM sandbox_sms WHERE handset_e164 = $1 AND direction = 'from_handset' AND body = $2`,
    [CUSTOMER, body],
  );
  return rows.length;
}

describe.skipIf(!hasChromium)('sandbox tools in a browser', () => {
  beforeAll(async () => {
    const db = await freshPglite();
    relay = await testRelay(db);
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    relayPort = (relay.app.server.address() as AddressInfo).port;
    relayUrl = `http://127.0.0.1:${relayPort}`;
    org = await seedOrg(db);
    attacker = createServer((_request, response) => {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(attackPage(relayUrl, CUSTOMER, org.sender));
    });
    attackerPort = await new Promise<number>((resolve) =>
      attacker.listen(0, '127.0.0.1', () => resolve((attacker.address() as AddressInfo).port)),
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      // evil.example resolves to this machine, as a DNS-rebinding attacker's name would.
      args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP evil.example 127.0.0.1'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await relay?.close();
    await relay?.db.close();
  });

  async function page(url: string): Promise<Page> {
    const p = await browser.newPage();
    await p.goto(url);
    return p;
  }

  it('sends a text from the phone simulator page itself', async () => {
    const p = await page(`${relayUrl}/sandbox/phone?handset=${encodeURIComponent(CUSTOMER)}`);
    await p.locator(`#service option[value="${org.sender}"]`).waitFor({ state: 'attached' });
    await p.fill('#text', 'hello from the simulator');
    await p.click('button[type=submit]');
    await expect.poll(() => p.textContent('#status')).toBe('Delivered to the relay.');
    expect(await textsFromHandset('hello from the simulator')).toBe(1);
    await p.close();
  });

  it("refuses another site's form that would text STOP as the customer", async () => {
    const p = await browser.newPage();
    const refused = p.waitForResponse((r) => r.url() === `${relayUrl}/sandbox/phone/api/send`);
    await p.goto(`http://evil.example:${attackerPort}/`);
    const response = await refused;
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('CROSS_SITE_REQUEST');
    expect(await textsFromHandset('STOP')).toBe(0);
    await p.close();
  });

  it('refuses the sandbox mailbox to a page on a rebound DNS name', async () => {
    const p = await browser.newPage();
    const response = await p.goto(`http://evil.example:${relayPort}/sandbox/mail`);
    expect(response?.status()).toBe(421);
    expect(await p.content()).toContain('HOST_NOT_ALLOWED');
    await p.close();
  });
});
