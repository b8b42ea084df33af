// The relay `npm start` runs (sandbox SMS, sandbox CRM, outbox worker on an embedded PGlite), set up
// for a browser scenario: an organisation as first-run setup makes it, reps who sign in to the
// extension, and what a rep does through the API before the browser part starts.
import { randomBytes } from 'node:crypto';
import type { Frame, Page } from 'puppeteer-core';
import { hashPassword } from '../../server/auth/passwords.ts';
import { loadConfig } from '../../server/config.ts';
import { secretsKey } from '../../server/crypto/secrets.ts';
import type { DemoRecipient } from '../../server/demo-recipients.ts';
import { createFirstOrg } from '../../server/first-run.ts';
import { issueSetupToken } from '../../server/organisations/org-admin.ts';
import { SANDBOX_SENDER } from '../../server/routes/setup.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { freshPglite } from '../helpers/db.ts';
import { TEST_PASSWORD, testUser } from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';
import { type ExtensionBrowser, panelFrameIn } from './browsers.ts';
import { Ui } from './ui.ts';

export interface SandboxRelay {
  relay: Relay;
  url: string;
  orgId: string;
  /** A demo contact's record page in the sandbox CRM. */
  recordOf(who: DemoRecipient): string;
  close(): Promise<void>;
}

/** Starts the sandbox relay on a free port with `clock`, and sets up "Acme Dental" with `reps`. */
export async function startSandboxRelay(clock: () => Date, reps: string[]): Promise<SandboxRelay> {
  const [db, port] = await Promise.all([freshPglite(), freePort()]);
  const url = `http://127.0.0.1:${port}`;
  const key = randomBytes(32);
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    SMS_PROVIDER: 'sandbox',
    SECRETS_KEY: key.toString('base64'),
    LOG_LEVEL: 'silent',
    OUTBOX_WORKER: 'on',
  });
  const relay = await startRelay(config, { db, logger: false, clock });
  await relay.app.listen({ port, host: '127.0.0.1' });
  const { orgId } = await createFirstOrg(relay.db, {
    token: await issueSetupToken(relay.db, clock()),
    orgName: 'Acme Dental',
    adminEmail: 'owner@acme-dental.example',
    passwordHash: await hashPassword(TEST_PASSWORD),
    now: clock(),
    sandboxSender: SANDBOX_SENDER,
    sandboxCrmKey: secretsKey(key),
  });
  for (const email of reps) await testUser(relay.db, { orgId, email, role: 'rep', now: clock() });
  return {
    relay,
    url,
    orgId,
    recordOf: (who) => `${url}/sandbox/crm/contacts/${who.contact.ref.id}`,
    async close() {
      await relay.close();
      await relay.db.close();
    },
  };
}

/** A rep's API session on the relay: JSON calls with their access token. */
export async function repSession(
  url: string,
  email: string,
): Promise<(path: string, body?: object, headers?: Record<string, string>) => Promise<Response>> {
  const login = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: TEST_PASSWORD }),
  });
  if (login.status !== 201) throw new Error(`sign-in refused: ${await login.text()}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  return (path, body, headers = {}) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

/**
 * What a rep does in the panel before texting a contact, through the API: opens the record (the
 * relay learns the CRM's name), records the opt-in, and sends a first text.
 */
export async function repTexts(url: string, email: string, who: DemoRecipient, body: string): Promise<void> {
  const call = await repSession(url, email);
  const ref = who.contact.ref;
  const checked = [
    await call(`/v1/contacts/lookup?crm=sandbox&objectType=${ref.objectType}&id=${ref.id}`),
    await call('/v1/consent', {
      phone: who.phone,
      kind: 'opt_in',
      source: 'verbal',
      evidence: 'Agreed on the call',
    }),
    await call(
      '/v1/messages',
      { from: SANDBOX_SENDER, contact: { crm: 'sandbox', objectType: ref.objectType, id: ref.id }, body },
      { 'idempotency-key': `e2e-${email}-${ref.id}-${body.length}` },
    ),
  ];
  for (const answer of checked)
    if (answer.status >= 300) throw new Error(`${answer.url} refused: ${await answer.text()}`);
}

/** The customer answers from their phone (the sandbox phone simulator's API). */
export async function customerReplies(url: string, who: DemoRecipient, text: string): Promise<void> {
  const reply = await fetch(`${url}/sandbox/phone/api/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handset: who.phone, service: SANDBOX_SENDER, text }),
  });
  if (reply.status !== 202) throw new Error(`the customer's reply was refused: ${await reply.text()}`);
}

/** The panel frame on a page of `browser`. */
export async function panelOn(browser: ExtensionBrowser, page: Page): Promise<Ui> {
  return new Ui(await panelFrameIn(page, browser.extensionOrigin, 15_000));
}

/** Signs a rep in on the extension's options page (Firefox opens it from a panel, as a rep would). */
export async function signInExtension(
  browser: ExtensionBrowser,
  recordUrl: string,
  relayUrl: string,
  email: string,
): Promise<void> {
  let helper: Page | undefined;
  const options = await browser.openOptions(async () => {
    helper = await browser.open(recordUrl);
    return (await panelOn(browser, helper)).scope as Frame;
  });
  const ui = new Ui(options);
  await ui.waitFor({ button: 'Sign in', exact: true });
  await ui.fill({ label: 'Relay URL', exact: true }, relayUrl);
  await ui.fill({ label: 'Email', exact: true }, email);
  await ui.fill({ label: 'Password', exact: true }, TEST_PASSWORD);
  await ui.click({ button: 'Sign in', exact: true });
  await ui.waitFor({ testId: 'signed-in' });
  await options.close();
  await helper?.close();
}
