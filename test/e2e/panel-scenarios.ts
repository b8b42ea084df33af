// @vitest-environment node

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { quietRecipient, sendableRecipients } from '../helpers/sendable-recipients.ts';
import { storedMessages } from '../helpers/stored-texts.ts';
import {
  type BrowserName,
  browserAvailable,
  type ExtensionBrowser,
  launchWithExtension,
  panelFrameIn,
} from './browsers.ts';
import { buildExtensionInto, ROOT, selfSignedCert } from './extension-harness.ts';
import { boxOf, dockState, fontsUnder, overlaps } from './layout-probes.ts';
import { RelayProxy } from './panel-proxy.ts';
import { PanelRelay, type PanelUser, PORTAL_ID } from './panel-relay.ts';
import { Ui } from './ui.ts';

/**
 * The panel end to end, the same scenarios in headless Chromium and in Firefox ESR: the built
 * extension on HubSpot and Salesforce record pages (served locally under their real host names),
 * talking to a REAL relay — the sandbox SMS network, the outbox worker, the phone simulator — whose
 * CRM connections point at the HubSpot and Salesforce fakes. The extension reaches the relay through
 * an HTTP proxy the test can cut and that records what crosses it.
 */

/** How long a poll waits for something the UI does at once (a render, a preflight, a live event). */
const WAIT = { timeout: 5000 };
const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const VIEWPORT = { width: 1280, height: 800 };

/** A customer as the CRM holds them, and where their record opens. */
interface Customer {
  name: string;
  phone: string;
  id: string;
  url: string;
}

const crmPage = (title: string): string =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p id="path"></p>` +
  `<script>document.getElementById('path').textContent = location.pathname;</script></body></html>`;

/** Runs every panel scenario in `browserName`; a machine without that browser says so and skips. */
export function panelScenarios(browserName: BrowserName): void {
  const available = browserAvailable(browserName);
  if (!available)
    console.log(`[e2e] skipping the ${browserName} panel scenarios: the browser is not installed`);

  // One browser and one relay for every scenario. Each takes a few seconds (the offline one up to
  // ~20 s waiting for the reconnect); the whole run well under 3 minutes.
  describe.skipIf(!available)(
    `texting panel in ${browserName} against a real relay`,
    { timeout: 45_000 },
    () => {
      let relay: PanelRelay;
      let proxy: RelayProxy;
      let crm: Server;
      let eb: ExtensionBrowser;
      /** The relay as the extension knows it: through the proxy. */
      let relayUrlForPanel = '';
      const cleanup: Array<() => Promise<void>> = [];
      const pageErrors: string[] = [];
      const shots = join(SHOTS, browserName);

      // Numbers whose local time allows texting for the next 10 minutes, and one in quiet hours now,
      // by the relay's clock (DC's noon and Guam's night, whatever the real hour).
      const { phones } = sendableRecipients(6, 10 * 60_000, PanelRelay.clock());
      const phone = (i: number): string => phones[i] as string;
      const customers: Record<'ada' | 'grace' | 'oscar' | 'olive' | 'quincy' | 'sam' | 'mia', Customer> = {
        ada: { name: 'Ada Lovelace', phone: phone(0), id: '', url: '' },
        grace: { name: 'Grace Hopper', phone: phone(1), id: '', url: '' },
        oscar: { name: 'Oscar Wilde', phone: phone(2), id: '', url: '' },
        olive: { name: 'Olive Offline', phone: phone(3), id: '', url: '' },
        quincy: {
          name: 'Quincy Quiet',
          phone: quietRecipient(10 * 60_000, PanelRelay.clock()),
          id: '',
          url: '',
        },
        sam: { name: 'Sam Salesforce', phone: phone(4), id: '', url: '' },
        mia: { name: 'Mia Masked', phone: phone(5), id: '', url: '' },
      };
      const FIRST_REPLY = 'Is my cleaning still on for Thursday?';

      async function open(url: string): Promise<Page> {
        const page = await eb.open(url);
        // Uncaught errors of the page and of the panel frame inside it (told apart by their stack).
        page.on('pageerror', (thrown: unknown) => {
          const error = thrown instanceof Error ? thrown : new Error(String(thrown));
          const where = error.stack?.includes(eb.extensionOrigin) ? 'panel frame' : 'page';
          pageErrors.push(`${page.url()} (${where}): ${error.message}`);
        });
        return page;
      }

      /** The `src` of the panel's iframe, docked in the CRM page's shadow root. */
      function panelSrc(page: Page): Promise<string | null> {
        return page.evaluate(
          () =>
            document
              .querySelector('crm-texting-panel')
              ?.shadowRoot?.querySelector('iframe')
              ?.getAttribute('src') ?? null,
        );
      }

      /** The panel's own frame (an extension page inside the CRM page), for evaluating in it. */
      async function panelFrame(page: Page): Promise<Frame> {
        const found = await panelFrameIn(page, eb.extensionOrigin, 10_000);
        await watchPanelErrors(found);
        return found;
      }

      /** Panel frames being watched for uncaught errors (see `watchPanelErrors`). */
      const watchedPanels = new Set<Frame>();

      /**
       * Neither driver reports uncaught errors of the panel's frame (an extension page inside the CRM
       * page) as page errors, so the frame records its own: errors and unhandled rejections from now on.
       */
      async function watchPanelErrors(frame: Frame): Promise<void> {
        if (watchedPanels.has(frame)) return;
        watchedPanels.add(frame);
        await frame.evaluate(() => {
          const w = window as unknown as { e2eErrors?: string[] };
          if (w.e2eErrors !== undefined) return;
          const errors: string[] = [];
          w.e2eErrors = errors;
          window.addEventListener('error', (e) => errors.push(`uncaught: ${e.message}`));
          window.addEventListener('unhandledrejection', (e) =>
            errors.push(
              `unhandled rejection: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`,
            ),
          );
        });
      }

      /** Moves what the watched panel frames recorded into `pageErrors` (before their pages close). */
      async function collectPanelErrors(): Promise<void> {
        for (const frame of watchedPanels) {
          if (frame.detached) {
            // Its page closed: gone, with nothing more to report.
            watchedPanels.delete(frame);
            continue;
          }
          const errors = await frame.evaluate(() => {
            const w = window as unknown as { e2eErrors?: string[] };
            return (w.e2eErrors ?? []).splice(0);
          });
          for (const error of errors) pageErrors.push(`panel frame: ${error}`);
        }
      }

      /** The panel's document, for finding and using what the rep sees. */
      async function panelOf(page: Page): Promise<Ui> {
        return new Ui(await panelFrame(page));
      }

      /** Opens a contact's record and waits until the panel shows them, loaded from the relay. */
      async function openContact(customer: Customer): Promise<{ page: Page; panel: Ui }> {
        const page = await open(customer.url);
        shown = page;
        const panel = await panelOf(page);
        await showsContact(panel, customer);
        return { page, panel };
      }

      /** Waits for the panel to show the customer from the relay; on failure, says what it shows instead. */
      async function showsContact(panel: Ui, customer: Customer): Promise<void> {
        try {
          await expect
            .poll(() => panel.textNow({ testId: 'contact-name' }), { timeout: 10_000 })
            .toBe(customer.name);
          await panel.waitFor({ css: '[data-testid=thread][data-source=network]' });
        } catch (error) {
          const text = await panel.innerTextNow({ css: 'main' });
          throw new Error(
            `the panel did not show ${customer.name} (${customer.url}); it shows: ${JSON.stringify(text ?? '(no panel)')}`,
            { cause: error },
          );
        }
      }

      /** Whether the panel frame may open an IndexedDB database (the outbox and saved threads live there). */
      async function indexedDbProbe(page: Page | undefined): Promise<string> {
        if (page === undefined) return 'no page';
        const frame = await panelFrame(page);
        return frame.evaluate(
          () =>
            new Promise<string>((resolve) => {
              const request = indexedDB.open('e2e-probe');
              request.onsuccess = () => {
                request.result.close();
                resolve('opens');
              };
              request.onerror = () => resolve(`refused: ${request.error?.name}: ${request.error?.message}`);
            }),
        );
      }

      /** The CRM page the running scenario shows the rep; screenshotted when it ends. */
      let shown: Page | undefined;

      /** Saves what the rep sees at the end of a scenario, pass or fail. */
      async function screenshot(name: string, page: Page | undefined = shown): Promise<void> {
        shown = undefined;
        await collectPanelErrors();
        if (page === undefined || page.isClosed()) return;
        // best effort: a screenshot of a page that is closing is no reason to fail the scenario.
        await page.screenshot({ path: join(shots, `${name}.png`) }).catch(() => undefined);
      }

      async function countMessages(bodyPart: string): Promise<number> {
        return (await storedMessages(relay.db)).filter((m) => m.body.includes(bodyPart)).length;
      }

      /**
       * The extension's options page. Firefox opens it only from an extension page, so there a CRM
       * record is opened for its panel to ask, and closed again.
       */
      async function optionsPage(): Promise<Ui> {
        let helper: Page | undefined;
        const page = await eb.openOptions(async () => {
          helper = await open(customers.grace.url);
          return panelFrame(helper);
        });
        await helper?.close();
        return new Ui(page);
      }

      /** The page an options Ui works on. */
      const pageOf = (ui: Ui): Page => ui.scope as Page;

      /**
       * Waits until a freshly opened options page has read its stored settings: it then puts the stored
       * relay URL in the Relay URL field, over whatever was typed there before (OptionsForm.tsx, the
       * first `loadSettings`). On a fresh profile that read takes about 2 s (Chromium's first
       * `storage.managed` read), long enough to wipe a URL the test typed at once.
       */
      async function settingsLoaded(options: Ui): Promise<void> {
        // Rendered once the sign-in choice has read storage: the form's own settings read has started.
        await options.waitFor({ button: 'Sign in', exact: true });
        await pageOf(options).evaluate(async () => {
          const api = globalThis as unknown as {
            browser?: {
              storage: Record<'local' | 'session' | 'managed', { get(keys: null): Promise<object> }>;
            };
            chrome: {
              storage: Record<'local' | 'session' | 'managed', { get(keys: null): Promise<object> }>;
            };
          };
          const { storage } = api.browser ?? api.chrome;
          // Reads queued behind the form's own, then one frame for it to render what it read.
          await Promise.all([
            storage.local.get(null),
            storage.session.get(null),
            // best effort: a browser without managed storage for this add-on answers with an error.
            storage.managed.get(null).catch(() => ({})),
          ]);
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        });
      }

      /** Signs the extension in on its options page: relay, password, then the authenticator code. */
      async function signIn(options: Ui, user: PanelUser): Promise<void> {
        await settingsLoaded(options);
        await options.fill({ label: 'Relay URL', exact: true }, relayUrlForPanel);
        await options.fill({ label: 'Email', exact: true }, user.email);
        await options.fill({ label: 'Password', exact: true }, user.password);
        await options.click({ button: 'Sign in', exact: true });
        await options.fill({ label: 'Authentication code or recovery code' }, relay.authenticatorCode(user));
        await options.click({ button: 'Verify' });
        await options.waitFor({ testId: 'signed-in' });
      }

      /** Signs out on the options page, confirming when texts still wait in the outbox. */
      async function signOut(options: Ui): Promise<void> {
        await options.click({ button: 'Sign out', exact: true });
        const anyway = { button: 'Sign out anyway' };
        const signInForm = { button: 'Sign in', exact: true };
        await expect
          .poll(async () => (await options.exists(anyway)) || (await options.exists(signInForm)), WAIT)
          .toBe(true);
        if (await options.exists(anyway)) await options.click(anyway);
        await options.waitFor(signInForm);
      }

      /**
       * Records, on one of the extension's pages, every desktop notification shown or closed from now on:
       * headless Firefox closes a notification as soon as it is created, so `getAll()` alone misses it.
       */
      function watchNotifications(extensionPage: Page): Promise<void> {
        return extensionPage.evaluate(() => {
          type Events = { addListener(listener: (id: string) => void): void };
          const g = globalThis as unknown as {
            browser?: { notifications: { onShown?: Events; onClosed: Events } };
            chrome: { notifications: { onShown?: Events; onClosed: Events } };
            e2eNotified?: string[];
          };
          const seen: string[] = [];
          g.e2eNotified = seen;
          const api = (g.browser ?? g.chrome).notifications;
          api.onShown?.addListener((id) => seen.push(id));
          api.onClosed.addListener((id) => seen.push(id));
        });
      }

      /** The ids of the extension's desktop notifications showing now or seen by `watchNotifications`. */
      function notificationIds(extensionPage: Page): Promise<string[]> {
        return extensionPage.evaluate(async () => {
          const g = globalThis as unknown as {
            browser?: { notifications: { getAll(): Promise<object> } };
            chrome: { notifications: { getAll(): Promise<object> } };
            e2eNotified?: string[];
          };
          const showing = Object.keys(await (g.browser ?? g.chrome).notifications.getAll());
          return [...new Set([...showing, ...(g.e2eNotified ?? [])])];
        });
      }

      /** The id the relay gave the inbound text `body` from `phone`. */
      async function inboundId(phone: string, body: string): Promise<string> {
        const message = (await relay.messagesWith(phone)).find(
          (m) => m.direction === 'inbound' && m.body === body,
        );
        if (message === undefined) throw new Error(`the relay holds no text "${body}" from ${phone}`);
        return message.id;
      }

      beforeAll(async () => {
        await mkdir(shots, { recursive: true });
        const buildDir = await mkdtemp(join(tmpdir(), `panel-e2e-${browserName}-`));
        cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
        // A build of its own: others rebuilding .output/ meanwhile cannot pull files from under the browser.
        const [extensionPath, cert, started] = await Promise.all([
          buildExtensionInto(buildDir, browserName === 'chromium' ? 'chrome' : 'firefox'),
          selfSignedCert(),
          PanelRelay.start(),
        ]);
        relay = started;
        cleanup.push(cert.cleanup);

        for (const key of ['ada', 'grace', 'oscar', 'olive', 'quincy', 'mia'] as const) {
          const c = customers[key];
          const [first, last] = c.name.split(' ');
          c.id = relay.hubspot.addContact({
            firstname: first ?? '',
            lastname: last ?? '',
            mobilephone: c.phone,
            phone: null,
          });
          c.url = `https://app.hubspot.com/contacts/${PORTAL_ID}/record/0-1/${c.id}`;
        }
        const sam = customers.sam;
        sam.id = relay.salesforce.addRecord('Contact', {
          FirstName: 'Sam',
          LastName: 'Salesforce',
          MobilePhone: sam.phone,
          Phone: null,
        });
        sam.url = `https://acme.lightning.force.com/lightning/r/Contact/${sam.id}/view`;
        for (const c of Object.values(customers)) await relay.optIn(c.phone);
        // History: the rep texted earlier and the customer answered. (A rep sees only conversations
        // they sent in, so a thread the customer started would not show.)
        await Promise.all([
          relay.sendAsRep(customers.ada.phone, 'Hi Ada, your cleaning is booked for Thursday.'),
          relay.sendAsRep(customers.sam.phone, 'Hi Sam, your invoice is ready.'),
        ]);
        await relay.textFromCustomer(customers.ada.phone, FIRST_REPLY);
        await relay.textFromCustomer(customers.sam.phone, 'Can you send me the invoice?');

        proxy = new RelayProxy(Number(new URL(relay.url).port));
        const proxyPort = await proxy.listen();
        crm = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
          res.writeHead(200, { 'content-type': 'text/html' }).end(crmPage(`CRM ${req.headers.host}`));
        });
        const crmPort = await new Promise<number>((resolve) =>
          crm.listen(0, '127.0.0.1', () => resolve((crm.address() as AddressInfo).port)),
        );
        eb = await launchWithExtension(browserName, { extensionPath, crmPort, viewport: VIEWPORT });
        relayUrlForPanel = `http://127.0.0.1:${proxyPort}`;
      }, 120_000);

      afterAll(async () => {
        await eb?.close();
        await new Promise((resolve) => (crm ? crm.close(resolve) : resolve(undefined)));
        await proxy?.close();
        await relay?.close();
        for (const fn of cleanup.reverse()) await fn();
      });

      it('signs in with a password and an authenticator code from the options page', async () => {
        const options = await optionsPage();
        try {
          await signIn(options, relay.user);
          const signedIn = { testId: 'signed-in' };
          expect(await options.text(signedIn)).toContain(`Signed in as ${relay.user.email}`);
          // GET /v1/me through the new session: the org and role come from the relay.
          await expect.poll(() => options.text(signedIn), WAIT).toContain('to Acme Dental (rep)');
        } finally {
          await screenshot('01-sign-in-with-2fa', pageOf(options));
          await pageOf(options).close();
        }
      });

      it('gives the extension every browser API it relies on', async () => {
        const options = await optionsPage();
        try {
          const report = await pageOf(options).evaluate(async () => {
            type Api = {
              alarms: { getAll(): Promise<Array<{ name: string; periodInMinutes?: number }>> };
              notifications: { getAll(): Promise<object> };
              tabs: { query(q: object): Promise<Array<{ id?: number }>> };
              storage: Record<
                'session' | 'managed',
                { get(k: string | null): Promise<object>; set?(v: object): Promise<void> }
              >;
            };
            const g = globalThis as unknown as { browser?: Api; chrome: Api };
            const api = g.browser ?? g.chrome;
            const outcome = <T>(p: Promise<T>): Promise<string> =>
              p.then(
                () => 'ok',
                (e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`,
              );
            await api.storage.session.set?.({ e2eProbe: 'kept in memory' });
            const session = (await api.storage.session.get('e2eProbe')) as { e2eProbe?: string };
            const idb = await new Promise<string>((resolve) => {
              const request = indexedDB.open('e2e-api-probe');
              request.onsuccess = () => {
                request.result.close();
                resolve('ok');
              };
              request.onerror = () => resolve(`error: ${request.error?.message}`);
            });
            return {
              // The background's periodic wake-up (token refresh, outbox flush, SSO expiry).
              alarms: (await api.alarms.getAll()).map((a) => `${a.name}/${a.periodInMinutes}`),
              notifications: await outcome(api.notifications.getAll()),
              tabs: (await api.tabs.query({})).every((t) => typeof t.id === 'number'),
              session: session.e2eProbe,
              indexedDb: idb,
              // No policy here: Chrome answers {} and Firefox refuses; the extension reads both as "none".
              managed: await outcome(api.storage.managed.get(null)),
            };
          });
          expect(report).toMatchObject({
            alarms: ['crm-texting-tick/0.5'],
            notifications: 'ok',
            tabs: true,
            session: 'kept in memory',
            indexedDb: 'ok',
          });
          expect(report.managed).toMatch(/^ok$|^error: /);
          // "Sign in with SSO" opens the relay's sign-in in a tab, follows the tab's address (which needs
          // the relay's host permission) to the relay's final page, then closes the tab.
          const followed = await pageOf(options).evaluate(async (relay) => {
            type Listener = (id: number, change: { status?: string }, tab: { url?: string }) => void;
            type Tabs = {
              create(o: object): Promise<{ id?: number }>;
              remove(id: number): Promise<void>;
              onUpdated: { addListener(l: Listener): void; removeListener(l: Listener): void };
            };
            const g = globalThis as unknown as { browser?: { tabs: Tabs }; chrome: { tabs: Tabs } };
            const tabs = (g.browser ?? g.chrome).tabs;
            const target = `${relay}/healthz`;
            let listener: Listener = () => undefined;
            const loaded = new Promise<string>((resolve) => {
              listener = (_id, change, tab) => {
                if (change.status === 'complete' && tab.url === target) resolve(tab.url);
              };
              tabs.onUpdated.addListener(listener);
            });
            const tab = await tabs.create({ url: target, active: false });
            const url = await Promise.race([
              loaded,
              new Promise<string>((r) => setTimeout(() => r('not seen'), 5000)),
            ]);
            tabs.onUpdated.removeListener(listener);
            if (tab.id !== undefined) await tabs.remove(tab.id);
            return url;
          }, relayUrlForPanel);
          expect(followed).toBe(`${relayUrlForPanel}/healthz`);
          // Unlocked: the rep may change the relay URL when no policy sets it.
          expect(await options.exists({ testId: 'relay-url-locked' })).toBe(false);
        } finally {
          await pageOf(options).close();
        }
      });

      let ada: { page: Page; panel: Ui } | undefined;

      /** Ada's record, opened once and kept by the scenarios that follow her thread. */
      async function adaRecord(): Promise<{ page: Page; panel: Ui }> {
        if (ada === undefined) {
          const page = await open(customers.ada.url);
          ada = { page, panel: await panelOf(page) };
        }
        shown = ada.page;
        await showsContact(ada.panel, customers.ada);
        return ada;
      }

      it('shows a HubSpot contact with their consent and thread', async () => {
        try {
          const { page, panel } = await adaRecord();
          expect(await panelSrc(page)).toBe(
            `${eb.extensionOrigin}panel.html#crm=hubspot&objectType=contact&id=${customers.ada.id}&portalId=${PORTAL_ID}`,
          );
          expect(await panel.text({ testId: 'contact-phone' })).toContain(customers.ada.phone.slice(-4));
          const badge = { css: '[data-consent]' };
          expect(await panel.attribute(badge, 'data-consent')).toBe('opted_in');
          await panel.click(badge);
          expect(await panel.text({ testId: 'consent-evidence' })).toContain('booking form');
          await panel.waitFor({ testId: 'local-time' });
          const reply = { css: 'li.inbound[data-message-id]', hasText: FIRST_REPLY };
          expect(await panel.attribute(reply, 'data-status')).toBe('received');
          await panel.waitFor({ text: 'Live' });
          await panel.waitFor({ button: 'Escalate…' });
          // Already opted in: the rep can escalate to a call or email, but has no opt-in to record.
          expect(await panel.exists({ button: 'Mark opted in…' })).toBe(false);
        } finally {
          await screenshot('02-hubspot-contact');
        }
      });

      it('shows a Salesforce contact with their consent and thread', async () => {
        let sam: { page: Page; panel: Ui } | undefined;
        try {
          expect(customers.sam.id).toHaveLength(18);
          sam = await openContact(customers.sam);
          const { page, panel } = sam;
          expect(await panelSrc(page)).toContain(`#crm=salesforce&objectType=contact&id=${customers.sam.id}`);
          expect(await panel.attribute({ css: '[data-consent]' }, 'data-consent')).toBe('opted_in');
          await panel.waitFor({ testId: 'local-time' });
          await panel.waitFor({
            css: 'li.inbound[data-message-id]',
            hasText: 'Can you send me the invoice?',
          });
        } finally {
          await screenshot('03-salesforce-contact');
          await sam?.page.close();
        }
      });

      it('pins beside the record without covering it, collapses to a tab and writes nothing under 13 px', async () => {
        let ada: { page: Page; panel: Ui } | undefined;
        try {
          ada = await openContact(customers.ada);
          const { page } = ada;
          await ada.panel.waitFor({ css: 'li.inbound[data-message-id]', hasText: FIRST_REPLY });
          let dock = await dockState(page);
          // Pinned by default: the page gives up the panel's width and its tab's strip.
          expect(dock.panel.right).toBe(VIEWPORT.width);
          expect(dock.htmlMarginRight).toBe(`${dock.panel.width + dock.tab.width}px`);
          const heading = await boxOf(page, 'h1');
          expect(heading.right).toBeLessThanOrEqual(dock.tab.left);
          expect(overlaps(heading, dock.panel)).toBe(false);
          expect(await fontsUnder(await panelFrame(page), 13)).toEqual([]);

          await page.click('crm-texting-panel >>> .toggle');
          await expect.poll(async () => (await dockState(page)).expanded, WAIT).toBe('false');
          dock = await dockState(page);
          expect(dock.panel.width).toBe(0);
          expect(dock.htmlMarginRight).toBe('');
          expect(dock.tab.right).toBe(VIEWPORT.width);
          expect((await boxOf(page, 'h1')).right).toBeGreaterThan(heading.right);
          await screenshot('13-panel-collapsed', page);

          await page.focus('crm-texting-panel >>> .toggle');
          await page.keyboard.press('Enter');
          await expect.poll(async () => (await dockState(page)).expanded, WAIT).toBe('true');
          dock = await dockState(page);
          expect(dock.htmlMarginRight).toBe(`${dock.panel.width + dock.tab.width}px`);
          expect((await boxOf(page, 'h1')).right).toBe(heading.right);
        } finally {
          await screenshot('14-panel-pinned', ada?.page);
          await ada?.page.close();
        }
      });

      it('sends with Ctrl+Enter and shows the text delivered', async () => {
        const body = 'Yes, Thursday at 3 pm. See you then!';
        try {
          const { panel } = await adaRecord();
          const draft = { label: 'Message', exact: true };
          await panel.fill(draft, body);
          await panel.press(draft, 'Enter', true);
          const sent = { css: 'li.outbound[data-message-id]', hasText: body };
          await panel.waitFor(sent);
          expect(await panel.value(draft)).toBe('');
          // The sandbox network reports sent, then delivered; the panel hears it on the live stream.
          await expect
            .poll(() => panel.attributeNow(sent, 'data-status'), { timeout: 15_000 })
            .toBe('delivered');
          const stored = (await relay.messagesWith(customers.ada.phone)).filter((m) => m.body === body);
          expect(stored.map((m) => [m.direction, m.status])).toEqual([['outbound', 'delivered']]);
          expect(await panel.attribute(sent, 'data-message-id')).toBe(stored[0]?.id);
        } finally {
          await screenshot('04-send-delivered');
        }
      });

      it("shows the customer's reply from the phone simulator live, without a reload", async () => {
        try {
          const { page, panel } = await adaRecord();
          const frame = await panelFrame(page);
          await frame.evaluate(() => {
            (window as unknown as { e2eMarker: string }).e2eMarker = 'same panel';
          });
          const text = 'Perfect, thanks! I will be there.';
          await relay.textFromCustomer(customers.ada.phone, text);
          const reply = { css: 'li.inbound[data-message-id]', hasText: text };
          expect(await panel.attribute(reply, 'data-status')).toBe('received');
          expect(await frame.evaluate(() => (window as unknown as { e2eMarker?: string }).e2eMarker)).toBe(
            'same panel',
          );
        } finally {
          await screenshot('05-live-reply');
        }
      });

      it('offers a secure payment link when the customer texts a card number, which never reaches the thread', async () => {
        const { panel } = await adaRecord();
        try {
          await relay.textFromCustomer(customers.ada.phone, 'Here you go: 4242 4242 4242 4242 exp 12/29');
          await panel.waitFor({ testId: 'card-number-offer' });
          const reply = { css: 'li.inbound[data-message-id]', hasText: 'Here you go' };
          expect(await panel.text(reply)).not.toContain('4242 4242');
          await panel.click({ button: 'Send a secure payment link…' });
          await panel.waitFor({ css: 'form[aria-label="Request payment"]' });
          expect(await panel.exists({ testId: 'card-number-offer' })).toBe(false);
          await screenshot('05b-card-number-offer');
        } finally {
          // Later scenarios on this record start from the plain panel.
          if (await panel.exists({ css: 'form[aria-label="Request payment"]' }))
            await panel.click({ button: 'Close', exact: true });
        }
      });

      it('follows SPA navigation to another contact without reloading the page', async () => {
        try {
          const { page, panel } = await adaRecord();
          await page.evaluate(() => {
            (window as unknown as { e2eMarker: string }).e2eMarker = 'same page';
          });
          const before = await panelSrc(page);
          const path = new URL(customers.grace.url).pathname;
          await page.evaluate((to) => history.pushState({}, '', to), path);
          await expect
            .poll(() => panelSrc(page), WAIT)
            .toBe(
              `${eb.extensionOrigin}panel.html#crm=hubspot&objectType=contact&id=${customers.grace.id}&portalId=${PORTAL_ID}`,
            );
          expect(before).toContain(`id=${customers.ada.id}`);
          await expect
            .poll(() => panel.textNow({ testId: 'contact-name' }), { timeout: 10_000 })
            .toBe(customers.grace.name);
          expect(await panel.attribute({ css: '[data-consent]' }, 'data-consent')).toBe('opted_in');
          // Neither the CRM page nor the panel frame was reloaded: only the frame's hash changed.
          expect(await page.evaluate(() => (window as unknown as { e2eMarker?: string }).e2eMarker)).toBe(
            'same page',
          );
          expect(await panel.count('li', FIRST_REPLY)).toBe(0);
        } finally {
          await screenshot('06-spa-navigation');
          await ada?.page.close();
          ada = undefined;
        }
      });

      it('locks the composer for a contact who texted STOP', async () => {
        let oscar: { page: Page; panel: Ui } | undefined;
        try {
          await relay.textFromCustomer(customers.oscar.phone, 'STOP');
          await expect.poll(() => relay.consentStatus(customers.oscar.phone), WAIT).toBe('opted_out');
          oscar = await openContact(customers.oscar);
          const { panel } = oscar;
          expect(await panel.attribute({ css: '[data-consent]' }, 'data-consent')).toBe('opted_out');
          expect(await panel.text({ testId: 'blocked-reason' })).toContain('opted out');
          expect(await panel.isDisabled({ label: 'Message', exact: true })).toBe(true);
          expect(await panel.isDisabled({ testId: 'send' })).toBe(true);
        } finally {
          await screenshot('07-opted-out-locked');
          await oscar?.page.close();
        }
      });

      it('offers to schedule a text in quiet hours and queues it for their morning', async () => {
        let quincy: { page: Page; panel: Ui } | undefined;
        try {
          quincy = await openContact(customers.quincy);
          const { panel } = quincy;
          const body = 'Your order is ready at the front desk.';
          await panel.fill({ label: 'Message', exact: true }, body);
          await panel.waitFor({ testId: 'quiet-hours' });
          const send = { testId: 'send' };
          await expect.poll(() => panel.textNow(send), WAIT).toMatch(/^Schedule for .+ their time$/);
          // First text to this number: the relay adds who is texting and how to stop, and says so.
          expect(await panel.text({ testId: 'final-text' })).toContain('Reply STOP to opt out.');
          await panel.click(send);
          expect(await panel.text({ testId: 'composer-notice' })).toMatch(/^Scheduled: .+ their time\.$/);
          // The thread says when it goes, not just "Queued".
          const scheduledItem = { css: 'li.outbound[data-status="queued"]', hasText: body };
          await expect
            .poll(() => panel.textNow(scheduledItem), { timeout: 5000 })
            .toMatch(/Scheduled for .+ their time/);

          const [message, ...others] = await relay.messagesWith(customers.quincy.phone);
          expect(others).toEqual([]);
          expect(message?.body).toContain(body);
          expect(message?.status).toBe('queued');
          const detail = await relay.call('GET', `/v1/messages/${message?.id}`);
          const history = (detail.json as { statusHistory: { status: string }[] }).statusHistory;
          expect(history.map((h) => h.status)).not.toContain('sent');
          const [job] = await relay.db.query<{ scheduled_for: Date }>(
            'SELECT scheduled_for FROM outbox_jobs WHERE message_id = $1',
            [message?.id],
          );
          expect(job?.scheduled_for.getTime()).toBeGreaterThan(PanelRelay.clock().getTime() + 60_000);
          expect(await panel.count('li.outbound[data-message-id]', body)).toBe(1);
        } finally {
          await screenshot('08-quiet-hours-scheduled');
          await quincy?.page.close();
        }
      });

      it('lists a scheduled text above the composer, moves it to another time and cancels it', async () => {
        let quincy: { page: Page; panel: Ui } | undefined;
        try {
          quincy = await openContact(customers.quincy);
          const { panel } = quincy;
          const body = 'Your new glasses are ready for pick-up.';
          await panel.fill({ label: 'Message', exact: true }, body);
          await expect.poll(() => panel.textNow({ testId: 'send' }), WAIT).toMatch(/^Schedule for /);
          await panel.click({ testId: 'send' });
          expect(await panel.text({ testId: 'composer-notice' })).toMatch(/^Scheduled: .+ their time\.$/);
          const listed = { testId: 'scheduled-text', hasText: body };
          await expect.poll(() => panel.textNow(listed), WAIT).toMatch(/Goes at .+ their time/);
          const message = (await relay.messagesWith(customers.quincy.phone)).find((m) =>
            m.body.includes(body),
          );
          const id = message?.id ?? '';
          const jobTime = async () =>
            (
              await relay.db.query<{ scheduled_for: Date | null; state: string }>(
                'SELECT scheduled_for, state FROM outbox_jobs WHERE message_id = $1',
                [id],
              )
            )[0];
          const first = (await jobTime())?.scheduled_for?.getTime() ?? 0;
          expect(first).toBeGreaterThan(PanelRelay.clock().getTime());
          const inItem = (button: string) => ({ css: `li[data-message-id="${id}"] button`, hasText: button });

          // An hour later than planned: the field holds the planned time on the rep's own clock.
          await panel.click(inItem('Send at another time'));
          const field = { label: 'New time (your time)' };
          const planned = await panel.value(field);
          const later = await (panel.scope as Frame).evaluate((value: string) => {
            const at = new Date(new Date(value).getTime() + 3_600_000);
            const pad = (n: number) => String(n).padStart(2, '0');
            return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
          }, planned);
          await panel.fill(field, later);
          await panel.click(inItem('Move'));
          await expect
            .poll(async () => (await jobTime())?.scheduled_for?.getTime(), WAIT)
            .toBe(first + 3_600_000);
          const movedText = await panel.text(listed);
          expect(movedText).toMatch(/Goes at .+ their time/);
          // The composer's "Scheduled: <old time>" no longer holds: the list says when it goes now.
          await expect.poll(() => panel.exists({ testId: 'composer-notice' }), WAIT).toBe(false);
          await screenshot('scheduled-texts', quincy.page);

          await panel.click(inItem('Cancel text'));
          await expect.poll(() => panel.exists(listed), WAIT).toBe(false);
          expect((await jobTime())?.state).toBe('cancelled');
          const cancelled = { css: 'li.outbound[data-status="cancelled"]', hasText: body };
          await expect.poll(() => panel.textNow(cancelled), WAIT).toContain('Cancelled');
          const [after] = (await relay.messagesWith(customers.quincy.phone)).filter((m) => m.id === id);
          expect(after?.status).toBe('cancelled');
        } finally {
          await screenshot('scheduled-texts-cancelled', quincy?.page);
          await quincy?.page.close();
        }
      });

      it('blocks a card number in the draft and sends nothing', async () => {
        let contact: { page: Page; panel: Ui } | undefined;
        try {
          contact = await openContact(customers.ada);
          const { panel } = contact;
          const before = (await relay.messagesWith(customers.ada.phone)).length;
          const draft = { label: 'Message', exact: true };
          await panel.fill(draft, 'Sure, my card is 4111 1111 1111 1111, charge it');
          await panel.waitFor({ testId: 'sensitive-block' });
          expect(await panel.text({ testId: 'sensitive-span' })).toBe('4111 1111 1111 1111');
          expect(await panel.isDisabled({ testId: 'send' })).toBe(true);
          await panel.press(draft, 'Enter', true);
          await new Promise((r) => setTimeout(r, 1000));
          expect(await countMessages('4111')).toBe(0);
          expect(await relay.messagesWith(customers.ada.phone)).toHaveLength(before);
        } finally {
          await screenshot('09-card-number-blocked');
          await contact?.page.close();
        }
      });

      it('keeps a text sent offline and sends it exactly once when the relay is back', async () => {
        let olive: { page: Page; panel: Ui } | undefined;
        const body = 'Sent while the relay was unreachable';
        try {
          olive = await openContact(customers.olive);
          const { panel } = olive;
          await panel.waitFor({ text: 'Live' });
          proxy.setOnline(false);
          const draft = { label: 'Message', exact: true };
          await panel.fill(draft, body);
          await panel.press(draft, 'Enter', true);
          const waiting = { css: 'li[data-outbox="waiting"]', hasText: body };
          await panel.waitFor(waiting).catch(async (error: unknown) => {
            throw new Error(
              `the text is not waiting in the outbox; the composer shows ${JSON.stringify(
                (await panel.innerTextNow({ css: 'form.composer [role=alert]' })) ?? 'no error',
              )}; IndexedDB in the panel frame: ${await indexedDbProbe(olive?.page)}`,
              { cause: error },
            );
          });
          expect(await panel.text(waiting)).toContain('Waiting for connection');
          expect(await countMessages(body)).toBe(0);

          proxy.setOnline(true);
          await panel.waitFor({ css: 'li.outbound[data-message-id]', hasText: body }, 20_000);
          await expect.poll(() => panel.count('li[data-outbox]'), WAIT).toBe(0);
          expect(await countMessages(body)).toBe(1);
          // Nothing goes out a second time a little later either (a retry would reuse the key).
          await new Promise((r) => setTimeout(r, 2000));
          expect(await countMessages(body)).toBe(1);
          expect(await panel.count('li[data-message-id]', body)).toBe(1);
        } finally {
          proxy.setOnline(true);
          await screenshot('10-offline-send-once');
          await olive?.page.close();
        }
      });

      it('sets each notification choice beside its label, in text no smaller than 13 px', async () => {
        const options = await optionsPage();
        try {
          const page = pageOf(options);
          await options.waitFor({ label: 'Texts on conversations I take part in' });
          const choices = await page.$$eval('.notifications label.choice', (labels) =>
            labels.map((label) => {
              const rect = (el: Element | null) => {
                const r = el?.getBoundingClientRect();
                return { left: r?.left ?? 0, right: r?.right ?? 0, top: r?.top ?? 0, bottom: r?.bottom ?? 0 };
              };
              return { radio: rect(label.querySelector('input')), text: rect(label.querySelector('span')) };
            }),
          );
          expect(choices).toHaveLength(3);
          for (const { radio, text } of choices) {
            // On one line: the radio's middle lies within the text's line box, just left of the text.
            const middle = (radio.top + radio.bottom) / 2;
            expect(middle).toBeGreaterThan(text.top);
            expect(middle).toBeLessThan(text.bottom);
            expect(radio.right).toBeLessThanOrEqual(text.left);
            expect(text.left - radio.right).toBeLessThan(16);
          }
          expect(await fontsUnder(page.mainFrame(), 13)).toEqual([]);
        } finally {
          await screenshot('options-notifications', pageOf(options));
          await pageOf(options).close();
        }
      });

      it('notifies the rep of a reply on their own conversation, not on one they never sent in', async () => {
        const options = await optionsPage();
        try {
          await watchNotifications(pageOf(options));
          // No CRM page is open: no panel shows Ada, only the background's live stream hears her.
          const crmPages = [];
          // best effort: a frame or page still loading (or already gone) has no address to read yet.
          for (const page of await eb.browser.pages())
            if ((await page.evaluate(() => location.href).catch(() => '')).startsWith('https://'))
              crmPages.push(page);
          expect(crmPages).toEqual([]);
          expect(await options.isChecked({ label: 'Texts on conversations I take part in' })).toBe(true);
          // A conversation the rep never sent in: the org's integration texted Grace with its API key.
          await relay.sendWithApiKey(customers.grace.phone, 'Your order is ready at the front desk.');
          const othersReply = 'Thanks, I will pick it up tomorrow.';
          await relay.textFromCustomer(customers.grace.phone, othersReply);
          const ownReply = 'Could we move Thursday to Friday instead?';
          await relay.textFromCustomer(customers.ada.phone, ownReply);
          const [othersId, ownId] = await Promise.all([
            inboundId(customers.grace.phone, othersReply),
            inboundId(customers.ada.phone, ownReply),
          ]);
          await expect
            .poll(() => notificationIds(pageOf(options)), { timeout: 15_000 })
            .toContain(`inbound:${ownId}`);
          // The relay does not stream a conversation this rep cannot see, and were it to, 'mine' must
          // still skip it. Grace's reply came first; a moment more covers a slower ownership lookup.
          await new Promise((r) => setTimeout(r, 1000));
          expect(await notificationIds(pageOf(options))).not.toContain(`inbound:${othersId}`);
        } finally {
          await screenshot('11-reply-notification', pageOf(options));
          await pageOf(options).close();
        }
      });

      // Last of the browser scenarios: it leaves the extension signed in as the rep without pii.view, so
      // none of the scenarios above depends on signing the first rep in again (a second TOTP sign-in
      // within one 30 s step would need a code two steps ahead, which the relay refuses).
      it('lets a rep who may not see phone numbers text a contact and see the reply live', async () => {
        const mia = customers.mia;
        let contact: { page: Page; panel: Ui } | undefined;
        const options = await optionsPage();
        try {
          // Every permission of a plain rep's reading and texting, without pii.view. (numbers.view too:
          // the panel needs GET /v1/me and the sender numbers, and every built-in role has it.)
          await relay.addRole('rep_no_pii', [
            'messages.send',
            'conversations.view',
            'contacts.view',
            'consent.view',
            'numbers.view',
          ]);
          const maskedRep = await relay.addUser({
            email: 'max@acme-dental.example',
            role: 'rep_no_pii',
            displayName: 'Max Masked',
          });
          await signOut(options);
          await signIn(options, maskedRep);
          const signedIn = { testId: 'signed-in' };
          expect(await options.text(signedIn)).toContain(`Signed in as ${maskedRep.email}`);
          await expect.poll(() => options.text(signedIn), WAIT).toContain('to Acme Dental (rep_no_pii)');
          await pageOf(options).close();

          proxy.clear();
          contact = await openContact(mia);
          const { panel } = contact;
          const header = await panel.text({ testId: 'contact-phone' });
          expect(header).toContain(`•${mia.phone.slice(-4)}`);
          expect(header).not.toContain(mia.phone);

          const body = 'Hi Mia, your new glasses are ready to collect.';
          await panel.fill({ label: 'Message', exact: true }, body);
          const send = { testId: 'send' };
          await expect.poll(() => panel.isDisabled(send), WAIT).toBe(false);
          await panel.click(send);
          // The panel never had the number: it names the CRM record and the relay looks the number up.
          let posted: Record<string, unknown> | undefined;
          await expect
            .poll(() => {
              const exchange = proxy.exchanges.find((e) => e.method === 'POST' && e.path === '/v1/messages');
              posted =
                exchange === undefined
                  ? undefined
                  : (JSON.parse(exchange.requestBody) as Record<string, unknown>);
              return posted !== undefined;
            }, WAIT)
            .toBe(true);
          expect(posted?.to).toBeUndefined();
          expect(posted?.contact).toEqual({ crm: 'hubspot', objectType: 'contact', id: mia.id });

          const sent = { css: 'li.outbound[data-message-id]', hasText: body };
          await panel.waitFor(sent);
          // Status updates arrive on the live stream with masked numbers, matched by conversation id.
          await expect
            .poll(() => panel.attributeNow(sent, 'data-status'), { timeout: 15_000 })
            .toBe('delivered');
          const messageId = await panel.attribute(sent, 'data-message-id');
          const [stored] = await relay.db.query<{ to_e164: string; status: string }>(
            'SELECT to_e164, status FROM messages WHERE id = $1',
            [messageId],
          );
          expect(stored).toEqual({ to_e164: phoneToken(relay.db, mia.phone), status: 'delivered' });

          const replyText = 'Lovely, I will come by on Saturday.';
          await relay.textFromCustomer(mia.phone, replyText);
          const reply = { css: 'li.inbound[data-message-id]', hasText: replyText };
          await panel.waitFor(reply).catch(async (error: unknown) => {
            throw new Error(
              `the reply did not appear live; the thread shows ${JSON.stringify(
                (await panel.innerTextNow({ testId: 'thread' })) ?? '(no thread)',
              )}`,
              { cause: error },
            );
          });
          expect(await panel.attribute(reply, 'data-message-id')).toBe(await inboundId(mia.phone, replyText));

          // Nothing the relay answered the extension, nor the panel's page, holds Mia's full number.
          const answers = proxy.exchanges.filter((e) => e.contentType.includes('application/json'));
          expect(answers.some((a) => a.path.startsWith('/v1/contacts'))).toBe(true);
          expect(
            answers
              .filter((a) => a.responseBody.includes(mia.phone.slice(1)))
              .map((a) => `${a.path} ${a.responseBody}`),
          ).toEqual([]);
          const shownText = ((await panel.innerTextNow({ css: 'body' })) ?? '').replace(/[\s().-]/g, '');
          expect(shownText).not.toContain(mia.phone.slice(-10));
        } finally {
          await screenshot('12-masked-rep-live-reply');
          await contact?.page.close();
          if (!pageOf(options).isClosed()) await pageOf(options).close();
        }
      });

      it('raised no uncaught errors in any CRM page or panel frame', async () => {
        await collectPanelErrors();
        expect(pageErrors).toEqual([]);
      });
    },
  );
}
