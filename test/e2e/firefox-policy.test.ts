// @vitest-environment node

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, type ExtensionBrowser, GECKO_ID, launchWithExtension } from './browsers.ts';
import { buildExtensionInto, ROOT } from './extension-harness.ts';
import { Ui } from './ui.ts';

/**
 * IT fixes the relay URL for every rep: in Firefox with an enterprise policy (`policies.json` →
 * `3rdparty.Extensions.<add-on id>`), which reaches the extension as `storage.managed`, as Chrome's
 * managed policy does. The policy here names a relay the rep could not otherwise be made to use.
 */

const available = browserAvailable('firefox');
if (!available) console.log('[e2e] skipping the Firefox policy test: Firefox ESR is not installed');

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const POLICY_RELAY = 'https://relay.acme-dental.example';

describe.skipIf(!available)('a Firefox enterprise policy', { timeout: 60_000 }, () => {
  let eb: ExtensionBrowser;
  let sandboxCrm: Server;
  let crmUrl = '';
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const buildDir = await mkdtemp(join(tmpdir(), 'firefox-policy-build-'));
    cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
    // The development build docks on the relay's sandbox CRM pages on loopback: a page to open the
    // options from, which Firefox allows only from an extension page.
    const extensionPath = await buildExtensionInto(buildDir, 'firefox', 'development');
    sandboxCrm = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>CRM</title><h1>CRM</h1>'),
    );
    const port = await new Promise<number>((resolve) =>
      sandboxCrm.listen(0, '127.0.0.1', () => resolve((sandboxCrm.address() as AddressInfo).port)),
    );
    crmUrl = `http://127.0.0.1:${port}/sandbox/crm/contacts/policy-test`;
    eb = await launchWithExtension('firefox', {
      extensionPath,
      crmPort: port,
      viewport: { width: 1100, height: 700 },
      firefoxPolicies: { '3rdparty': { Extensions: { [GECKO_ID]: { relayUrl: POLICY_RELAY } } } },
    });
  }, 90_000);

  afterAll(async () => {
    await eb?.close();
    await new Promise((resolve) => (sandboxCrm ? sandboxCrm.close(resolve) : resolve(undefined)));
    for (const fn of cleanup.reverse()) await fn();
  });

  /** The panel frame of a sandbox CRM page. */
  async function panelFrame(page: Page): Promise<Frame> {
    const prefix = `${eb.extensionOrigin}panel.html`;
    for (let i = 0; i < 100; i++) {
      for (const frame of page.frames()) {
        // best effort: a frame or page still loading (or already gone) has no address to read yet.
        const href = await frame.evaluate(() => location.href).catch(() => '');
        if (href.startsWith(prefix)) return frame;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no panel frame on the sandbox CRM page');
  }

  it('fixes the relay URL: the extension reads it and the options page shows it locked', async () => {
    let crmPage: Page | undefined;
    const options = new Ui(
      await eb.openOptions(async () => {
        crmPage = await eb.open(crmUrl);
        return panelFrame(crmPage);
      }),
    );
    const page = options.scope as Page;
    try {
      const managed = await page.evaluate(async () => {
        const api = (
          globalThis as unknown as { browser: { storage: { managed: { get(k: null): Promise<object> } } } }
        ).browser;
        return api.storage.managed.get(null);
      });
      expect(managed).toEqual({ relayUrl: POLICY_RELAY });
      expect(await options.text({ testId: 'relay-url-locked' })).toMatch(
        /organisation|administrator|policy/i,
      );
      await expect.poll(() => options.value({ label: 'Relay URL', exact: true })).toBe(POLICY_RELAY);
      expect(
        await options
          .find({ label: 'Relay URL', exact: true })
          .then((h) => h.evaluate((el) => (el as HTMLInputElement).readOnly)),
      ).toBe(true);
    } finally {
      await mkdir(join(SHOTS, 'firefox'), { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'firefox', 'policy-locked-relay.png') });
      await page.close();
      await crmPage?.close();
    }
  });
});
