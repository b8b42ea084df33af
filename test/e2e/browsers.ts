import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Frame, type Page } from 'puppeteer-core';
import { CHROMIUM_PATH, chromiumArgs } from './extension-harness.ts';

/** The browsers the extension is tested in, from the same scenario code. */
export type BrowserName = 'chromium' | 'firefox';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
/** The Firefox add-on id (wxt.config.ts, browser_specific_settings.gecko.id). */
export const GECKO_ID = 'crm-texting@h-seed-8882232d.example';
/** Firefox gives each install a random origin; the tests pin it with `extensions.webextensions.uuids`. */
const FIREFOX_EXTENSION_UUID = '5f0c9a52-7d0e-4c6b-9a1e-2b3c4d5e6f70';
/** CRM host names the tests serve locally (a self-signed certificate names them all). */
export const CRM_HOSTS = ['app.hubspot.com', 'app-eu1.hubspot.com', 'acme.lightning.force.com'];

/** Whether the browser's executable is on this machine. */
export function browserAvailable(name: BrowserName): boolean {
  return existsSync(name === 'chromium' ? CHROMIUM_PATH : FIREFOX_PATH);
}

/** A browser with the extension installed, driven over CDP (Chromium) or WebDriver BiDi (Firefox). */
export interface ExtensionBrowser {
  readonly name: BrowserName;
  readonly browser: Browser;
  /** `chrome-extension://<id>/` or `moz-extension://<uuid>/`. */
  readonly extensionOrigin: string;
  /** A new tab at `url`. */
  open(url: string): Promise<Page>;
  /**
   * The extension's options page in a tab of its own. Firefox refuses to navigate automation to
   * moz-extension:// pages, so there it is opened the way a rep does from the panel: `via` is a
   * panel frame, whose "open the options" message the background answers with openOptionsPage().
   */
  openOptions(via: () => Promise<Frame>): Promise<Page>;
  /** The inbox (popup.html) in a tab of its own; in Firefox opened as the panel's "Inbox" does. */
  openInbox(via: () => Promise<Frame>): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** The unpacked build (chrome-mv3 / firefox-mv3 folder). */
  extensionPath: string;
  /** Where the CRM host names are served over HTTPS, on 127.0.0.1. */
  crmPort: number;
  viewport: { width: number; height: number };
  /**
   * Firefox only: an enterprise `policies.json` (its `policies` object) the browser starts with, as
   * IT would deploy it. Read from a temporary file through Firefox's test hook for an alternate
   * policies path, which it honours only under automation (see `firefoxPolicyPrefs`).
   */
  firefoxPolicies?: object;
  /**
   * A browser profile to start with and leave behind on close, so a second launch with it is a browser
   * restart: the extension's `storage.local` and IndexedDB survive, `storage.session` does not. Without
   * it, each launch has a fresh profile that is deleted on close.
   */
  profileDir?: string;
}

/** Launches the named browser with the extension and the CRM host names pointed at `crmPort`. */
export function launchWithExtension(name: BrowserName, options: LaunchOptions): Promise<ExtensionBrowser> {
  return name === 'chromium' ? launchChromium(options) : launchFirefox(options);
}

async function launchChromium(options: LaunchOptions): Promise<ExtensionBrowser> {
  const userDataDir = options.profileDir ?? (await mkdtemp(join(tmpdir(), 'e2e-chromium-')));
  const browser = await puppeteer.launch({
    browser: 'chrome',
    executablePath: CHROMIUM_PATH,
    headless: true,
    userDataDir,
    defaultViewport: options.viewport,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: chromiumArgs(options.extensionPath, options.crmPort),
  });
  const worker = await browser.waitForTarget((t) => t.type() === 'service_worker', { timeout: 15_000 });
  // (Not URL.origin: it is "null" for extension schemes.)
  const extensionOrigin = `chrome-extension://${new URL(worker.url()).host}/`;
  const open = async (url: string): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(url);
    return page;
  };
  return {
    name: 'chromium',
    browser,
    extensionOrigin,
    open,
    openOptions: () => open(`${extensionOrigin}options.html`),
    openInbox: () => open(`${extensionOrigin}popup.html`),
    async close() {
      await browser.close();
      if (options.profileDir === undefined) await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes `policies` as a policies.json and returns what makes Firefox read it: the alternate-path
 * pref, which Firefox honours only when `Cu.isInAutomation` holds, that is with the
 * security-off pref set and non-local connections disabled (EnterprisePoliciesParent.sys.mjs).
 */
async function firefoxPolicyPrefs(
  dir: string,
  policies: object,
): Promise<{ prefs: Record<string, unknown>; env: Record<string, string> }> {
  const file = join(dir, 'policies.json');
  await writeFile(file, JSON.stringify({ policies }));
  return {
    prefs: {
      'browser.policies.alternatePath': file,
      'security.turn_off_all_security_so_that_viruses_can_take_over_this_computer': true,
    },
    env: { MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' },
  };
}

async function launchFirefox(options: LaunchOptions): Promise<ExtensionBrowser> {
  // Firefox has no host-resolver rules: an HTTPS proxy that tunnels the CRM host names to crmPort
  // stands in for them (loopback, where the relay runs, is never proxied).
  const tunnel = await crmTunnel(options.crmPort);
  const policyDir = await mkdtemp(join(tmpdir(), 'e2e-firefox-policy-'));
  const policy =
    options.firefoxPolicies === undefined
      ? { prefs: {}, env: {} }
      : await firefoxPolicyPrefs(policyDir, options.firefoxPolicies);
  const browser = await puppeteer.launch({
    env: { ...process.env, ...policy.env },
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    acceptInsecureCerts: true,
    defaultViewport: options.viewport,
    ...(options.profileDir === undefined ? {} : { userDataDir: options.profileDir }),
    extraPrefsFirefox: {
      // The add-on is installed anew at each launch (automation installs it temporarily, and Firefox
      // removes it on exit): with a kept profile, its storage must outlive that, as a real install's does.
      ...(options.profileDir === undefined
        ? {}
        : { 'extensions.webextensions.keepStorageOnUninstall': true }),
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: FIREFOX_EXTENSION_UUID }),
      'network.proxy.type': 1,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': tunnel.port,
      'network.proxy.http': '127.0.0.1',
      'network.proxy.http_port': tunnel.port,
      'network.proxy.allow_hijacking_localhost': false,
      ...policy.prefs,
    },
  });
  await browser.installExtension(options.extensionPath);
  const extensionOrigin = `moz-extension://${FIREFOX_EXTENSION_UUID}/`;
  return {
    name: 'firefox',
    browser,
    extensionOrigin,
    async open(url) {
      const page = await browser.newPage();
      await page.goto(url);
      return page;
    },
    openOptions: (via) => openByMessage(browser, via, 'open-options', `${extensionOrigin}options.html`),
    openInbox: (via) => openByMessage(browser, via, 'open-inbox', `${extensionOrigin}popup.html`),
    async close() {
      await browser.close();
      await tunnel.close();
      await rm(policyDir, { recursive: true, force: true });
    },
  };
}

/**
 * Firefox refuses to navigate automation to moz-extension:// pages: the page is opened as the rep
 * opens it, by a message from a panel frame that the background answers by opening a tab.
 */
async function openByMessage(
  browser: Browser,
  via: () => Promise<Frame>,
  type: 'open-options' | 'open-inbox',
  prefix: string,
): Promise<Page> {
  const before = new Set(await browser.pages());
  const frame = await via();
  await frame.evaluate(
    (message) =>
      (
        globalThis as unknown as { browser: { runtime: { sendMessage(m: object): Promise<unknown> } } }
      ).browser.runtime.sendMessage({ type: message }),
    type,
  );
  // Puppeteer may report a moz-extension tab's URL as about:blank; the page itself knows.
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    for (const page of await browser.pages()) {
      if (before.has(page)) continue;
      // best effort: a frame or page still loading (or already gone) has no address to read yet.
      const href = await page.evaluate(() => location.href).catch(() => '');
      if (href.startsWith(prefix)) return page;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${prefix} did not open in Firefox`);
}

/** An HTTP CONNECT proxy that tunnels the CRM host names (port 443) to 127.0.0.1:`crmPort`, and nothing else. */
async function crmTunnel(crmPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(403).end('tunnel only\n'));
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    if (!CRM_HOSTS.includes(host ?? '') || port !== '443') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(crmPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    const teardown = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The panel's own frame (an extension page inside a CRM page), once it exists. Firefox may report a
 * moz-extension frame's URL as about:blank, so each frame is asked for its address itself.
 */
export async function panelFrameIn(page: Page, extensionOrigin: string, timeoutMs: number): Promise<Frame> {
  const prefix = `${extensionOrigin}panel.html`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      // best effort: a frame still loading (or already gone) has no address to read yet.
      const href = await frame.evaluate(() => location.href).catch(() => '');
      if (href.startsWith(prefix)) return frame;
    }
    if (Date.now() > deadline)
      throw new Error(`no panel frame (${prefix}) on ${page.url()} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
