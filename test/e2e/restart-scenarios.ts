// @vitest-environment node

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendableRecipients } from '../helpers/sendable-recipients.ts';
import {
  type BrowserName,
  browserAvailable,
  type ExtensionBrowser,
  launchWithExtension,
  panelFrameIn,
} from './browsers.ts';
import { buildExtensionInto, ROOT, selfSignedCert } from './extension-harness.ts';
import { PanelRelay, type PanelUser, PORTAL_ID } from './panel-relay.ts';
import { Ui } from './ui.ts';

/**
 * Staying signed in across browser restarts, end to end: the built extension in a browser whose profile
 * outlives it, closed and started again, against a real relay. What survives is what survives a real
 * restart: the extension's `storage.local` and IndexedDB, not its `storage.session`.
 */

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const VIEWPORT = { width: 1280, height: 800 };
const SEALED = 'sealedSession';

type ExtensionApi = {
  storage: Record<'local' | 'session', { get(key: string | null): Promise<Record<string, unknown>> }>;
};

/** Reads `storage.local` (or `.session`) from one of the extension's pages. */
function readStorage(page: Page | Frame, area: 'local' | 'session', key: string): Promise<unknown> {
  return page.evaluate(
    async (a, k) => {
      const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
      return ((await (g.browser ?? g.chrome).storage[a].get(k)) as Record<string, unknown>)[k] ?? null;
    },
    area,
    key,
  );
}

/**
 * What code running in the extension could recover from the vault: the sealed refresh token opened
 * with the key from IndexedDB (the key itself can never be exported). Null when nothing is kept.
 */
function unsealInExtension(page: Page): Promise<string | null> {
  return page.evaluate(async (sealedKey) => {
    const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
    const sealed = (await (g.browser ?? g.chrome).storage.local.get(sealedKey))[sealedKey] as
      | { iv: string; data: string }
      | undefined;
    const key = await new Promise<CryptoKey | undefined>((resolve, reject) => {
      const open = indexedDB.open('crm-texting-vault', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('keys');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const get = open.result.transaction('keys').objectStore('keys').get('session');
        get.onsuccess = () => resolve(get.result as CryptoKey | undefined);
        get.onerror = () => reject(get.error);
      };
    });
    if (sealed === undefined || key === undefined) return null;
    const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: bytes(sealed.iv),
        additionalData: new TextEncoder().encode('crm-texting kept session v1'),
      },
      key,
      bytes(sealed.data),
    );
    return (JSON.parse(new TextDecoder().decode(plain)) as { refreshToken: string }).refreshToken;
  }, SEALED);
}

/** Runs the restart scenarios in `browserName`; a machine without that browser says so and skips. */
export function restartScenarios(browserName: BrowserName): void {
  const available = browserAvailable(browserName);
  if (!available)
    console.log(`[e2e] skipping the ${browserName} restart scenarios: the browser is not installed`);

  describe.skipIf(!available)(
    `staying signed in across restarts of ${browserName}`,
    { timeout: 90_000 },
    () => {
      let relay: PanelRelay;
      let crm: Server;
      let crmPort = 0;
      let extensionPath = '';
      let eb: ExtensionBrowser | undefined;
      let profileDir = '';
      const cleanup: Array<() => Promise<void>> = [];
      const shots = browserName === 'chromium' ? SHOTS : join(SHOTS, browserName);
      const customer = { name: 'Rhea Restart', phone: '', url: '' };
      let rep: PanelUser;
      let reps = 0;
      let enrolmentSessions: string[] = [];

      /** Starts the browser on the scenario's profile: the first time, or again after `eb.close()`. */
      async function start(): Promise<ExtensionBrowser> {
        eb = await launchWithExtension(browserName, {
          extensionPath,
          crmPort,
          viewport: VIEWPORT,
          profileDir,
        });
        return eb;
      }

      /** Closes the browser as a rep does at the end of the day; the profile stays. */
      async function restart(): Promise<ExtensionBrowser> {
        await eb?.close();
        eb = undefined;
        return start();
      }

      /** The panel's frame in the customer's CRM record, opened in a new tab. */
      async function openRecord(browser: ExtensionBrowser): Promise<{ page: Page; panel: Ui }> {
        const page = await browser.open(customer.url);
        return { page, panel: new Ui(await panelFrameIn(page, browser.extensionOrigin, 15_000)) };
      }

      /** The options page, opened from a panel where the browser insists (Firefox). */
      async function optionsPage(browser: ExtensionBrowser): Promise<Page> {
        let helper: Page | undefined;
        const page = await browser.openOptions(async () => {
          const record = await openRecord(browser);
          helper = record.page;
          return record.panel.scope as Frame;
        });
        await helper?.close();
        return page;
      }

      /** Signs in on the options page: relay, password, authenticator code. */
      async function signIn(options: Page): Promise<void> {
        const ui = new Ui(options);
        await ui.waitFor({ button: 'Sign in', exact: true });
        // The form puts the stored relay URL in its field once it has read storage; wait for that read.
        await options.evaluate(async () => {
          const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
          await (g.browser ?? g.chrome).storage.local.get(null);
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        });
        await ui.fill({ label: 'Relay URL', exact: true }, relay.url);
        await ui.fill({ label: 'Email', exact: true }, rep.email);
        await ui.fill({ label: 'Password', exact: true }, rep.password);
        await ui.click({ button: 'Sign in', exact: true });
        await ui.fill({ label: 'Authentication code or recovery code' }, relay.authenticatorCode(rep));
        await ui.click({ button: 'Verify' });
        await ui.waitFor({ testId: 'signed-in' });
      }

      /** Whether the panel shows the customer, loaded from the relay (so it is signed in). */
      async function showsCustomer(panel: Ui): Promise<void> {
        try {
          await expect
            .poll(() => panel.textNow({ testId: 'contact-name' }), { timeout: 15_000 })
            .toBe(customer.name);
          await panel.waitFor({ css: '[data-testid=thread][data-source=network]' });
        } catch (error) {
          const frame = panel.scope as Frame;
          const shown = await panel.innerTextNow({ css: 'body' });
          // (Firefox may run the panel frame where `storage.session` does not reach: `storage.local` only.)
          const kept = await readStorage(frame, 'local', SEALED);
          throw new Error(
            `the panel did not show ${customer.name}; it shows ${JSON.stringify(shown)} (kept session ${kept === null ? 'absent' : 'present'})`,
            { cause: error },
          );
        }
      }

      /**
       * The rep's sessions in the browser (not the one the relay's web app enrolled the authenticator
       * with): open or not, and how many of their refresh tokens were spent.
       */
      function sessions() {
        return relay.db.query<{ id: string; revoked_reason: string | null; spent: number }>(
          `SELECT s.id, s.revoked_reason,
                  (SELECT count(*)::int FROM refresh_tokens t WHERE t.session_id = s.id AND t.used_at IS NOT NULL) AS spent
             FROM auth_sessions s JOIN users u ON u.id = s.user_id
            WHERE u.email = $1 AND s.id <> ALL($2::uuid[]) ORDER BY s.created_at`,
          [rep.email, enrolmentSessions],
        );
      }

      const setPolicy = (requireSignInEachBrowserSession: boolean) =>
        relay.db.query(
          `UPDATE orgs SET settings = jsonb_set(settings, '{auth}', COALESCE(settings->'auth', '{}') || $2::jsonb) WHERE id = $1`,
          [relay.orgId, JSON.stringify({ requireSignInEachBrowserSession })],
        );

      beforeAll(async () => {
        await mkdir(shots, { recursive: true });
        const buildDir = await mkdtemp(join(tmpdir(), `restart-e2e-${browserName}-`));
        cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
        const [built, cert, started] = await Promise.all([
          buildExtensionInto(buildDir, browserName === 'chromium' ? 'chrome' : 'firefox'),
          selfSignedCert(),
          PanelRelay.start(),
        ]);
        extensionPath = built;
        relay = started;
        cleanup.push(cert.cleanup);
        customer.phone = sendableRecipients(1, 10 * 60_000, PanelRelay.clock()).phones[0] as string;
        const id = relay.hubspot.addContact({
          firstname: 'Rhea',
          lastname: 'Restart',
          mobilephone: customer.phone,
          phone: null,
        });
        customer.url = `https://app.hubspot.com/contacts/${PORTAL_ID}/record/0-1/${id}`;
        await relay.optIn(customer.phone);
        crm = createHttpsServer({ key: cert.key, cert: cert.cert }, (_req, res) => {
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<!doctype html><title>CRM</title><h1>CRM</h1>');
        });
        crmPort = await new Promise<number>((resolve) =>
          crm.listen(0, '127.0.0.1', () => resolve((crm.address() as AddressInfo).port)),
        );
      }, 180_000);

      /**
       * Each scenario starts with a fresh profile, as a rep's first day with the extension, and a rep of
       * its own (an authenticator code works once, so one rep signing in again and again runs out of them).
       */
      const freshProfile = async (): Promise<void> => {
        profileDir = await mkdtemp(join(tmpdir(), `restart-profile-${browserName}-`));
        reps += 1;
        enrolmentSessions = [];
        rep = await relay.addUser({
          email: `rep${reps}@acme-dental.example`,
          role: 'rep',
          displayName: `Rep ${reps}`,
        });
        enrolmentSessions = (await sessions()).map((s) => s.id);
      };

      afterEach(async () => {
        await eb?.close();
        eb = undefined;
        await setPolicy(false);
        if (profileDir !== '') await rm(profileDir, { recursive: true, force: true });
        profileDir = '';
      });

      afterAll(async () => {
        await new Promise((resolve) => (crm ? crm.close(resolve) : resolve(undefined)));
        await relay?.close();
        for (const fn of cleanup.reverse()) await fn();
      });

      it('is still signed in after a browser restart, with the kept refresh token spent once', async () => {
        await freshProfile();
        const first = await start();
        const options = await optionsPage(first);
        await signIn(options);
        await expect.poll(() => readStorage(options, 'local', SEALED), { timeout: 10_000 }).not.toBeNull();
        expect(JSON.stringify(await readStorage(options, 'local', SEALED))).not.toContain('ctr_');
        const before = await sessions();
        expect(before).toEqual([{ id: expect.any(String), revoked_reason: null, spent: 0 }]);

        const second = await restart();
        const { page, panel } = await openRecord(second);
        try {
          await showsCustomer(panel);
        } finally {
          await page.screenshot({ path: join(shots, 'signed-in-after-restart.png') });
        }
        // The same session, opened again by spending the kept token (no new sign-in), and the rotated
        // token kept in its place.
        const after = await sessions();
        expect(after).toEqual([{ id: before[0]?.id, revoked_reason: null, spent: 1 }]);
      });

      it('asks for a sign-in in each browser session when the org requires it', async () => {
        await setPolicy(true);
        await freshProfile();
        const first = await start();
        const options = await optionsPage(first);
        await signIn(options);
        // Signed in, and it works in this browser session, but nothing is kept on disk.
        const { panel } = await openRecord(first);
        await showsCustomer(panel);
        expect(await readStorage(options, 'local', SEALED)).toBeNull();

        const second = await restart();
        const again = await openRecord(second);
        await again.panel.waitFor({ css: '[data-state=unconfigured]' }, 15_000);
        expect(await again.panel.exists({ testId: 'contact-name' })).toBe(false);
        await again.page.screenshot({ path: join(shots, 'sign-in-each-session.png') });
      });

      it('revokes on sign-out: a copy of the kept token no longer refreshes', async () => {
        await freshProfile();
        const first = await start();
        const options = await optionsPage(first);
        await signIn(options);
        await expect.poll(() => unsealInExtension(options), { timeout: 10_000 }).not.toBeNull();
        const copy = (await unsealInExtension(options)) as string;

        const ui = new Ui(options);
        await ui.click({ button: 'Sign out', exact: true });
        await ui.waitFor({ button: 'Sign in', exact: true });
        // Nothing kept any more: neither the sealed token nor its key.
        expect(await readStorage(options, 'local', SEALED)).toBeNull();
        expect(await unsealInExtension(options)).toBeNull();
        expect((await sessions()).map((s) => s.revoked_reason)).toEqual(['signed_out']);
        const replay = await relay.call('POST', '/v1/auth/refresh', {
          token: null,
          body: { refreshToken: copy },
        });
        expect(replay).toEqual({
          status: 401,
          json: { error: expect.objectContaining({ code: 'INVALID_REFRESH_TOKEN' }) },
        });

        const second = await restart();
        const again = await openRecord(second);
        await again.panel.waitFor({ css: '[data-state=unconfigured]' }, 15_000);
      });
    },
  );
}
