// @vitest-environment node

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOutbound } from '../../server/stores/messages.ts';
import { sendableRecipients } from '../helpers/sendable-recipients.ts';
import { browserAvailable, type ExtensionBrowser, launchWithExtension } from './browsers.ts';
import { buildExtensionInto, ROOT, selfSignedCert } from './extension-harness.ts';
import { PanelRelay, type PanelUser, PORTAL_ID, SENDER } from './panel-relay.ts';
import { Ui } from './ui.ts';

/**
 * Issue #16, items 5 and 4 in Chromium against a real relay: the owner sees a contact's number in
 * full (the panel used to mask it again), a rep without pii.view but with pii.reveal unmasks it
 * with "Show number" (audited, this view only), and a thread spanning two days shows where each
 * day starts.
 */

const SHOTS = process.env.E2E_SCREENSHOTS ?? join(ROOT, '.artifacts/e2e');
const WAIT = { timeout: 10_000 };

interface Customer {
  name: string;
  phone: string;
  id: string;
  url: string;
}

const crmPage = (title: string): string =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`;

const available = browserAvailable('chromium');
if (!available) console.log('[e2e] skipping the reveal scenarios: Chromium is not installed');

describe.skipIf(!available)(
  'phone numbers and thread days in the Chromium panel',
  { timeout: 60_000 },
  () => {
    let relay: PanelRelay;
    let crm: Server;
    let eb: ExtensionBrowser;
    const cleanup: Array<() => Promise<void>> = [];
    const { phones } = sendableRecipients(2, 10 * 60_000, PanelRelay.clock());
    const customers: Record<'paula' | 'dana', Customer> = {
      paula: { name: 'Paula Prentiss', phone: phones[0] as string, id: '', url: '' },
      dana: { name: 'Dana Days', phone: phones[1] as string, id: '', url: '' },
    };
    let owner: PanelUser;
    let revealer: PanelUser;

    async function panelOf(page: Page): Promise<Ui> {
      const prefix = `${eb.extensionOrigin}panel.html`;
      let found: Frame | undefined;
      await expect
        .poll(() => {
          found = page.frames().find((f) => f.url().startsWith(prefix));
          return found !== undefined;
        }, WAIT)
        .toBe(true);
      return new Ui(found as Frame);
    }

    async function openContact(customer: Customer): Promise<{ page: Page; panel: Ui }> {
      const page = await eb.open(customer.url);
      const panel = await panelOf(page);
      await expect.poll(() => panel.textNow({ testId: 'contact-name' }), WAIT).toBe(customer.name);
      await panel.waitFor({ css: '[data-testid=thread][data-source=network]' });
      return { page, panel };
    }

    /** Signs the extension in as `user` on the options page (password, then authenticator code). */
    async function signInAs(user: PanelUser): Promise<void> {
      const page = await eb.open(`${eb.extensionOrigin}options.html`);
      const options = new Ui(page);
      try {
        const signInForm = { button: 'Sign in', exact: true };
        const signedIn = { testId: 'signed-in' };
        // Whether someone is signed in shows once the page has read storage.
        await expect
          .poll(async () => (await options.exists(signedIn)) || (await options.exists(signInForm)), WAIT)
          .toBe(true);
        if (await options.exists(signedIn)) await options.click({ button: 'Sign out', exact: true });
        await options.waitFor(signInForm);
        // The form puts the stored relay URL in the field once it has read storage, over anything typed
        // before: reads queued behind its own, then a frame for it to render (as panel-scenarios.ts).
        await page.evaluate(async () => {
          type Area = { get(keys: null): Promise<object> };
          const { storage } = (
            globalThis as unknown as { chrome: { storage: Record<'local' | 'session' | 'managed', Area> } }
          ).chrome;
          await Promise.all([
            storage.local.get(null),
            storage.session.get(null),
            // best effort: a browser without managed storage for this extension answers with an error.
            storage.managed.get(null).catch(() => ({})),
          ]);
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        });
        await options.fill({ label: 'Relay URL', exact: true }, relay.url);
        await options.fill({ label: 'Email', exact: true }, user.email);
        await options.fill({ label: 'Password', exact: true }, user.password);
        await options.click(signInForm);
        await options.fill({ label: 'Authentication code or recovery code' }, relay.authenticatorCode(user));
        await options.click({ button: 'Verify' });
        await expect.poll(() => options.textNow(signedIn), WAIT).toContain(user.email);
      } finally {
        await page.close();
      }
    }

    async function screenshot(page: Page, name: string): Promise<void> {
      // best effort: a screenshot of a page that is closing is no reason to fail the scenario.
      await page.screenshot({ path: join(SHOTS, `${name}.png`) }).catch(() => undefined);
    }

    beforeAll(async () => {
      await mkdir(SHOTS, { recursive: true });
      const buildDir = await mkdtemp(join(tmpdir(), 'panel-reveal-e2e-'));
      cleanup.push(() => rm(buildDir, { recursive: true, force: true }));
      const [extensionPath, cert, started] = await Promise.all([
        buildExtensionInto(buildDir, 'chrome'),
        selfSignedCert(),
        PanelRelay.start(),
      ]);
      relay = started;
      cleanup.push(cert.cleanup);
      for (const c of Object.values(customers)) {
        const [first, last] = c.name.split(' ');
        c.id = relay.hubspot.addContact({
          firstname: first ?? '',
          lastname: last ?? '',
          mobilephone: c.phone,
          phone: null,
        });
        c.url = `https://app.hubspot.com/contacts/${PORTAL_ID}/record/0-1/${c.id}`;
        await relay.optIn(c.phone);
      }
      owner = await relay.addUser({
        email: 'olga@acme-dental.example',
        role: 'owner',
        displayName: 'Olga Owner',
      });
      await relay.addRole('rep_reveal', [
        'messages.send',
        'conversations.view',
        'contacts.view',
        'consent.view',
        'numbers.view',
        'pii.reveal',
      ]);
      revealer = await relay.addUser({
        email: 'rhea@acme-dental.example',
        role: 'rep_reveal',
        displayName: 'Rhea Reveal',
      });
      crm = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).end(crmPage(`CRM ${req.headers.host}`));
      });
      const crmPort = await new Promise<number>((resolve) =>
        crm.listen(0, '127.0.0.1', () => resolve((crm.address() as AddressInfo).port)),
      );
      eb = await launchWithExtension('chromium', {
        extensionPath,
        crmPort,
        viewport: { width: 1280, height: 800 },
      });
    }, 180_000);

    afterAll(async () => {
      await eb?.close();
      await new Promise((resolve) => (crm ? crm.close(resolve) : resolve(undefined)));
      await relay?.close();
      for (const fn of cleanup.reverse()) await fn();
    });

    it("shows the owner the contact's full number, with nothing to reveal", async () => {
      await signInAs(owner);
      const { page, panel } = await openContact(customers.paula);
      try {
        const shown = { testId: 'contact-phone' };
        expect(await panel.text(shown)).toBe(`Phone: ${customers.paula.phone}`);
        expect(await panel.attribute(shown, 'data-masked')).toBe('false');
        expect(await panel.exists({ testId: 'reveal-phone' })).toBe(false);
      } finally {
        await screenshot(page, 'panel-owner-number');
        await page.close();
      }
    });

    it('separates a thread that spans two days by day, with the full time on hover', async () => {
      const dana = customers.dana;
      const [number] = await relay.db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE e164 = $1', [
        SENDER,
      ]);
      // Two texts a day apart by the browser's clock (the relay's runs ahead of it, see PanelRelay.clock),
      // stored as the relay stores a send; the outbox then delivers them.
      const textAt = (body: string, at: Date) =>
        insertOutbound(relay.db, {
          orgId: relay.orgId,
          senderNumberId: number?.id ?? '',
          from: SENDER,
          to: dana.phone,
          body,
          purpose: 'conversation',
          contact: { crm: 'hubspot', objectType: 'contact', id: dana.id },
          provider: 'sandbox',
          now: at,
        });
      // On the calendar of this process's zone, which the browser it started shares: a moment earlier
      // today and the same wall-clock time the day before (not 24 hours back, which a DST change
      // moves to another day). Within a minute of midnight, the day turns first: "Today" stays today.
      const untilMidnight = new Date().setHours(24, 0, 0, 0) - Date.now();
      if (untilMidnight < 60_000) await new Promise((resolve) => setTimeout(resolve, untilMidnight + 1000));
      const now = new Date();
      const today = new Date((new Date(now).setHours(0, 0, 0, 0) + now.getTime()) / 2);
      const dayBefore = new Date(today);
      dayBefore.setDate(today.getDate() - 1);
      const earlier = await textAt('Hi Dana, your cleaning is booked for tomorrow.', dayBefore);
      await textAt('Hi Dana, see you at 3 pm today.', today);
      const { page, panel } = await openContact(dana);
      try {
        await panel.waitFor({ css: 'li[data-message-id]', hasText: 'see you at 3 pm' });
        const order = await (panel.scope as Frame).evaluate(() =>
          [...document.querySelectorAll('[data-testid=thread] ol > li')].map((li) =>
            li.getAttribute('data-testid') === 'day-separator' ? `day:${li.textContent}` : 'message',
          ),
        );
        // Labelled on the reader's calendar: the browser's zone and clock.
        expect(order).toEqual(['day:Yesterday', 'message', 'day:Today', 'message']);
        // Each time has the whole date and time on hover, and the same words for screen readers.
        const time = { css: `li[data-message-id="${earlier?.id}"] time` };
        const title = (await panel.attribute(time, 'title')) ?? '';
        expect(title).toMatch(/\b20\d\d\b/);
        expect(await panel.text({ css: `li[data-message-id="${earlier?.id}"] time .visually-hidden` })).toBe(
          title,
        );
      } finally {
        await screenshot(page, 'thread-days');
        await page.close();
      }
    });

    it('lets a rep without pii.view reveal the number with "Show number", recorded, for that view only', async () => {
      await signInAs(revealer);
      const paula = customers.paula;
      let { page, panel } = await openContact(paula);
      try {
        const shown = { testId: 'contact-phone' };
        const masked = await panel.text(shown);
        expect(masked).toContain(`•${paula.phone.slice(-4)}`);
        expect(masked).not.toContain(paula.phone);
        // By keyboard: focus the button and press Enter.
        const show = { testId: 'reveal-phone' };
        expect(await panel.text(show)).toBe('Show number');
        await panel.press(show, 'Enter');
        await expect.poll(() => panel.textNow(shown), WAIT).toBe(`Phone: ${paula.phone}`);
        expect(await panel.exists(show)).toBe(false);
        // The focus moved from the button that went to the number that came.
        await expect
          .poll(
            () => (panel.scope as Frame).evaluate(() => document.activeElement?.getAttribute('data-testid')),
            WAIT,
          )
          .toBe('contact-phone');
        const events = await relay.db.query<{ actor: string; detail: { contact: { id: string } } }>(
          `SELECT a.actor, a.detail FROM auth_events a JOIN users u ON u.id = a.user_id
          WHERE a.kind = 'reveal' AND u.email = $1`,
          [revealer.email],
        );
        expect(events.map((e) => e.detail.contact.id)).toEqual([paula.id]);
        await screenshot(page, 'panel-reveal');

        // Opened again, the number is masked again: the reveal was for that view only.
        await page.close();
        ({ page, panel } = await openContact(paula));
        expect(await panel.text(shown)).toBe(masked);
        expect(await panel.exists(show)).toBe(true);
      } finally {
        await page.close();
      }
    });
  },
);
