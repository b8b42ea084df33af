// @vitest-environment node

import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildChromeExtension,
  CHROME_OUTPUT,
  CHROMIUM_PATH,
  chromiumArgs,
  chromiumAvailable,
  selfSignedCert,
} from './extension-harness.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.log(`[e2e] skipping extension browser tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);

const DOCK = 'crm-texting-panel';
const PANEL_IFRAME = `${DOCK} iframe`;
const API_KEY = 'test-key-123';
const CONTACT_PHONE = '+15552223333';
const SENDER = '+15550001111';

const crmPage = (title: string): string =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p id="path"></p>` +
  `<script>document.getElementById('path').textContent = location.pathname;</script></body></html>`;

/** A contract-faithful stand-in for the relay's panel API, plus the sandbox CRM's pages. */
class FakeRelay {
  readonly sent: Array<{ key: string | undefined; body: unknown }> = [];
  private readonly streams = new Set<ServerResponse>();
  private seq = 0;

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://relay');
    if (url.pathname.startsWith('/sandbox/crm/')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(crmPage('Sandbox CRM'));
      return;
    }
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      this.json(res, 401, {
        error: { code: 'UNAUTHENTICATED', message: 'Missing or invalid API key', details: null },
      });
      return;
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /v1/me') {
      this.json(res, 200, {
        orgId: 'org_1',
        orgName: 'Acme Dental',
        role: 'rep',
        // A built-in rep sees numbers (pii.view), so the lookup below answers with the full number.
        permissions: ['messages.send', 'contacts.view', 'conversations.view', 'pii.view'],
        seesPii: true,
      });
    } else if (route === 'GET /v1/numbers') {
      this.json(res, 200, { numbers: [{ id: 'num_1', e164: SENDER, label: 'Front desk' }] });
    } else if (route === 'GET /v1/contacts/lookup') {
      if (url.searchParams.get('crm') !== 'sandbox') {
        this.json(res, 409, {
          error: {
            code: 'CRM_NOT_CONNECTED',
            message: 'HubSpot is not connected for this organisation.',
            details: null,
          },
        });
        return;
      }
      this.json(res, 200, {
        contact: {
          crm: 'sandbox',
          objectType: 'contact',
          id: url.searchParams.get('id'),
          name: 'Ada Lovelace',
          phone: CONTACT_PHONE,
          timeZone: 'America/New_York',
        },
        consent: { status: 'opted_in', updatedAt: '2025-01-01T00:00:00.000Z', source: 'web form' },
      });
    } else if (route === 'GET /v1/conversations') {
      this.json(res, 200, {
        conversations: [
          {
            id: 'conv_1',
            senderNumber: SENDER,
            contactPhone: CONTACT_PHONE,
            lastMessageAt: '2025-01-01T10:00:00.000Z',
          },
        ],
      });
    } else if (route === 'GET /v1/conversations/conv_1/messages') {
      this.json(res, 200, {
        messages: [this.message('msg_in_1', 'inbound', 'Is my appointment still on?', 'received')],
        nextCursor: null,
      });
    } else if (route === 'GET /v1/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': ping\n\n');
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
    } else if (route === 'POST /v1/messages') {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      req.on('end', () => {
        const body = JSON.parse(raw) as { body: string };
        this.sent.push({ key: req.headers['idempotency-key'] as string | undefined, body });
        if (body.body.includes('late')) {
          this.json(res, 422, {
            error: {
              code: 'QUIET_HOURS',
              message: 'It is 10:30 p.m. for this contact.',
              details: { retryAt: '08:00' },
            },
          });
          return;
        }
        const message = this.message(`msg_out_${++this.seq}`, 'outbound', body.body, 'queued');
        this.json(res, 202, { message });
        setTimeout(() => this.push('message.updated', { ...message, status: 'delivered' }), 150);
      });
    } else {
      this.json(res, 404, { error: { code: 'NOT_FOUND', message: `No route ${route}`, details: null } });
    }
  };

  message(id: string, direction: 'inbound' | 'outbound', body: string, status: string) {
    const at = new Date(Date.now() - (direction === 'inbound' ? 60_000 : 0)).toISOString();
    return {
      id,
      conversationId: 'conv_1',
      direction,
      from: direction === 'inbound' ? CONTACT_PHONE : SENDER,
      to: direction === 'inbound' ? SENDER : CONTACT_PHONE,
      body,
      status,
      segments: 1,
      encoding: 'GSM-7',
      errorCode: null,
      errorMessage: null,
      sentBy: direction === 'outbound' ? 'rep@acme.example' : null,
      createdAt: at,
      updatedAt: new Date().toISOString(),
    };
  }

  push(event: string, message: unknown): void {
    this.seq += 1;
    for (const res of this.streams)
      res.write(`id: ${this.seq}\nevent: ${event}\ndata: ${JSON.stringify({ message })}\n\n`);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  close(): void {
    for (const res of this.streams) res.end();
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

// Generous per-test timeout: each test drives a real browser; together they take well under 60 s.
describe.skipIf(!hasChromium)('extension in Chromium', { timeout: 30_000 }, () => {
  let context: BrowserContext;
  let extensionId: string;
  let crm: Server;
  let relayServer: Server;
  let relayPort: number;
  const relay = new FakeRelay();
  const pageErrors: string[] = [];
  let cleanup: Array<() => Promise<void>> = [];

  async function open(url: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(url);
    return page;
  }

  const iframeSrc = (page: Page): Promise<string | null> => page.locator(PANEL_IFRAME).getAttribute('src');

  beforeAll(async () => {
    const [, cert] = await Promise.all([buildChromeExtension(), selfSignedCert()]);
    cleanup.push(cert.cleanup);
    crm = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(crmPage(`Fake CRM ${req.headers.host}`));
    });
    relayServer = createHttpServer(relay.handle);
    const [crmPort, port] = await Promise.all([listen(crm), listen(relayServer)]);
    relayPort = port;
    const userDataDir = await mkdtemp(join(tmpdir(), 'crm-texting-chromium-'));
    cleanup.push(() => rm(userDataDir, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: chromiumArgs(CHROME_OUTPUT, crmPort),
    });
    const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
    extensionId = new URL(worker.url()).host;
  }, 60_000);

  afterAll(async () => {
    relay.close();
    await context?.close();
    await Promise.all([
      new Promise((r) => crm?.close(r)),
      new Promise((r) => {
        relayServer?.closeAllConnections();
        relayServer?.close(r);
      }),
    ]);
    for (const fn of cleanup) await fn();
    cleanup = [];
  });

  it('docks the panel on a HubSpot contact and offers settings while unconfigured', async () => {
    const page = await open('https://app.hubspot.com/contacts/8675309/record/0-1/51');
    await page.locator(PANEL_IFRAME).waitFor({ state: 'attached' });
    const src = await iframeSrc(page);
    expect(src).toBe(
      `chrome-extension://${extensionId}/panel.html#crm=hubspot&objectType=contact&id=51&portalId=8675309`,
    );
    // Docked to the right edge over the full viewport height.
    const box = await page.locator(PANEL_IFRAME).boundingBox();
    const viewport = page.viewportSize();
    expect(box?.height).toBe(viewport?.height);
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBe(viewport?.width);
    const panel = page.frameLocator(PANEL_IFRAME);
    await panel.getByText('Texting is not set up yet').waitFor();
    const optionsOpened = context.waitForEvent('page');
    await panel.getByRole('button', { name: 'Open settings' }).click();
    const options = await optionsOpened;
    expect(options.url()).toBe(`chrome-extension://${extensionId}/options.html`);
    await options.close();
    await page.close();
  });

  it('follows SPA navigation between contacts and away from records', async () => {
    const page = await open('https://app.hubspot.com/contacts/8675309/record/0-1/51');
    await page.locator(PANEL_IFRAME).waitFor({ state: 'attached' });
    await page.evaluate(() => history.pushState({}, '', '/contacts/8675309/record/0-1/777?tab=activity'));
    await expect
      .poll(() => iframeSrc(page), { timeout: 5000 })
      .toContain('#crm=hubspot&objectType=contact&id=777');

    await page.evaluate(() => history.pushState({}, '', '/contacts/8675309/objects/0-1/views/all/list'));
    await page.locator(DOCK).waitFor({ state: 'detached', timeout: 5000 });

    await page.evaluate(() => history.pushState({}, '', '/contacts/8675309/record/0-1/abc'));
    await expect.poll(() => iframeSrc(page), { timeout: 5000 }).toMatch(/panel\.html#none$/);
    await page.frameLocator(PANEL_IFRAME).getByText('Contact not detected').waitFor({ timeout: 5000 });
    await page.close();
  });

  it('docks the panel on a Salesforce lead record', async () => {
    const page = await open('https://acme.lightning.force.com/lightning/r/Lead/00Q5g00000XyZ12EAB/view');
    await page.locator(PANEL_IFRAME).waitFor({ state: 'attached' });
    expect(await iframeSrc(page)).toContain('#crm=salesforce&objectType=lead&id=00Q5g00000XyZ12EAB');
    await page.frameLocator(PANEL_IFRAME).getByRole('button', { name: 'Open settings' }).waitFor();
    await page.close();
  });

  it('stays off CRM pages that are not contact records', async () => {
    const page = await open('https://acme.lightning.force.com/lightning/page/home');
    await page.waitForTimeout(1500);
    expect(await page.locator(DOCK).count()).toBe(0);
    await page.close();
  });

  it('collapses with the toggle and remembers it across page loads', async () => {
    const page = await open('https://app.hubspot.com/contacts/8675309/record/0-1/51');
    const toggle = page.getByRole('button', { name: 'Hide texting panel' });
    await toggle.click();
    await page.getByRole('button', { name: 'Show texting panel' }).waitFor();
    expect(await page.locator(PANEL_IFRAME).isVisible()).toBe(false);
    await page.reload();
    const show = page.getByRole('button', { name: 'Show texting panel' });
    await show.waitFor();
    expect(await show.getAttribute('aria-expanded')).toBe('false');
    await show.click();
    await page.locator(PANEL_IFRAME).waitFor({ state: 'visible' });
    await page.close();
  });

  it('is configured from the options page and texts a sandbox contact with live status', async () => {
    const options = await open(`chrome-extension://${extensionId}/options.html`);
    await options.getByLabel('Relay URL').fill(`http://127.0.0.1:${relayPort}`);
    await options.getByText('Use an API key instead').click();
    await options.getByLabel('API key').fill(API_KEY);
    await options.getByRole('button', { name: 'Test connection' }).click();
    await options.getByText('Connected to Acme Dental as rep.').waitFor();
    await options.getByRole('button', { name: 'Save' }).click();
    await options.getByText('Saved.').waitFor();
    const stored = await options.evaluate(async () => {
      type Area = { get(keys: null): Promise<Record<string, unknown>> };
      const { storage } = (globalThis as unknown as { chrome: { storage: { local: Area; session: Area } } })
        .chrome;
      const [local, session] = await Promise.all([storage.local.get(null), storage.session.get(null)]);
      return { local, session };
    });
    // Bound to the relay it was entered for (issue #13, finding 12).
    expect(stored.session).toEqual({ apiKey: { relayUrl: `http://127.0.0.1:${relayPort}`, key: API_KEY } });
    expect(stored.local).not.toHaveProperty('apiKey');

    // The sandbox CRM runs on an arbitrary port: the port-less match pattern must cover it.
    const page = await open(`http://127.0.0.1:${relayPort}/sandbox/crm/contacts/c_1`);
    const panel = page.frameLocator(PANEL_IFRAME);
    await panel.getByRole('heading', { name: 'Ada Lovelace' }).waitFor();
    // Shown as the relay sent it: the panel masks nothing by itself (issue #16, item 5).
    expect(await panel.getByTestId('contact-phone').textContent()).toContain(CONTACT_PHONE);
    expect(await panel.getByTestId('reveal-phone').count()).toBe(0);
    expect(await panel.locator('[data-consent]').textContent()).toBe('Opted in');
    await panel.getByText('Is my appointment still on?').waitFor();
    await panel.getByText('Live', { exact: true }).waitFor();

    const draft = panel.getByLabel('Message');
    await draft.fill('Yes, see you at 3 pm.');
    expect(await panel.locator('#segment-count').textContent()).toContain('1 segment · GSM-7');
    await draft.press('Control+Enter');
    const sent = panel.locator('li.outbound', { hasText: 'Yes, see you at 3 pm.' });
    await sent.waitFor();
    await expect.poll(() => sent.getAttribute('data-status'), { timeout: 5000 }).toBe('delivered');
    expect(await draft.inputValue()).toBe('');
    expect(relay.sent[0]?.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(relay.sent[0]?.body).toEqual({
      from: SENDER,
      to: CONTACT_PHONE,
      body: 'Yes, see you at 3 pm.',
      contact: { crm: 'sandbox', objectType: 'contact', id: 'c_1' },
    });

    await draft.fill('Calling you late tonight');
    await panel.getByRole('button', { name: 'Send' }).click();
    const alert = panel.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('It is 10:30 p.m. for this contact.');
    expect(await alert.getAttribute('data-error-code')).toBe('QUIET_HOURS');
    expect(await draft.inputValue()).toBe('Calling you late tonight');
    expect(relay.sent[1]?.key).not.toBe(relay.sent[0]?.key);

    const shots = process.env.E2E_SCREENSHOTS;
    if (shots) await page.screenshot({ path: join(shots, 'sandbox-contact.png') });

    // Collapsed, the toggle badges a reply that arrives live (panel → background → content script).
    await page.getByRole('button', { name: 'Hide texting panel' }).click();
    relay.push('message.created', relay.message('msg_in_2', 'inbound', 'Great, thanks!', 'received'));
    const badge = page.locator(`${DOCK} .badge`);
    await badge.waitFor({ state: 'visible' });
    expect(await badge.textContent()).toBe('1');
    await page.getByRole('button', { name: 'Show texting panel' }).click();
    await badge.waitFor({ state: 'hidden' });
    await panel.getByText('Great, thanks!').waitFor();

    // A HubSpot contact while HubSpot is not connected: the relay's 409 is shown plainly.
    const hubspotPage = await open('https://app.hubspot.com/contacts/8675309/record/0-1/51');
    const hubspotPanel = hubspotPage.frameLocator(PANEL_IFRAME);
    await hubspotPanel.getByText('CRM not connected').waitFor();
    await hubspotPanel.getByText('HubSpot is not connected for this organisation.').waitFor();
    await Promise.all([options.close(), page.close(), hubspotPage.close()]);
  });

  it('raised no errors in any host page', () => {
    expect(pageErrors).toEqual([]);
  });
});
