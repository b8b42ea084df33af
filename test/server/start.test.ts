import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRecipients } from '../../server/demo-recipients.ts';

// The newcomer's path, end to end against a real process: first-run setup link, a message
// sent with an API key reaching the phone simulator, a reply coming back, and a clean Ctrl-C.
const root = path.resolve(import.meta.dirname, '../..');
let child: ChildProcess;
let output = '';
let base: string;
let dataDir: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = output.match(pattern);
    if (match !== null) return match;
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`not seen ${pattern}; output:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-start-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Node with tsx as a loader (the tsx CLI would run the relay in a grandchild process).
  child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    // The newcomer's defaults: no LOG_LEVEL, no LOG_FORMAT, no NODE_ENV=production.
    env: {
      ...process.env,
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: '',
      NODE_ENV: '',
      SECRETS_KEY: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
});

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// The process runs on the real clock. The contact it may text is the one the banner names, as the
// README says; the one it may not is a demo contact in quiet hours for the next ten minutes (the
// demo contacts' zones make sure there is one at any hour).
const QUIET = demoRecipients(new Date()).find(
  (r) =>
    r.contact.ref.objectType === 'contact' &&
    r.heldUntil !== null &&
    r.heldUntil.getTime() > Date.now() + 10 * 60_000,
);

describe('the relay process', () => {
  let key: string;

  it('prints a one-time setup link on an empty database and creates the org through it', async () => {
    const [, link] = await waitFor(/create your organisation at (\S+)/);
    expect(output).toContain('/sandbox/phone');
    expect(output).toContain(`Sandbox mail:    ${base}/sandbox/mail`);
    expect(output).toContain('Payments:        sandbox checkout');
    const token = new URL(link as string).searchParams.get('token') as string;
    const page = await fetch(`${base}/setup?token=${token}`);
    expect(page.status).toBe(200);
    const weak = await fetch(`${base}/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token,
        orgName: 'Acme Dental',
        adminEmail: 'owner@acme.test',
        adminPassword: 'password1234',
        adminPasswordConfirm: 'password1234',
      }).toString(),
    });
    // A common password is refused without using up the link.
    expect(weak.status).toBe(422);
    const created = await fetch(`${base}/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token,
        orgName: 'Acme Dental',
        adminEmail: 'owner@acme.test',
        adminPassword: 'correct horse battery staple',
        adminPasswordConfirm: 'correct horse battery staple',
      }).toString(),
    });
    expect(created.status).toBe(201);
    const html = await created.text();
    key = (html.match(/id="api-key">([^<]+)</) ?? [])[1] as string;
    expect(key).toMatch(/^ctk_/);
    // A sandbox relay connects its demo CRM to the new org: no CLI step before records show payments.
    expect(html).toContain('which is connected: texts, opt-ins and payments show on its records');
    const reused = await fetch(`${base}/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token,
        orgName: 'Again',
        adminEmail: 'x@acme.test',
        adminPassword: 'correct horse battery staple',
        adminPasswordConfirm: 'correct horse battery staple',
      }).toString(),
    });
    expect(reused.status).toBe(403);
    // The used link changes nothing, and its page says what to do instead.
    expect(await reused.text()).toContain('This setup link is not valid');
    // The first admin signs in with the password chosen on the setup page.
    const login = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@acme.test', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(201);
  });

  it('refuses a send during quiet hours at the customer with the next allowed time', async () => {
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    if (QUIET === undefined) throw new Error('no demo contact is in quiet hours for the next ten minutes');
    await fetch(`${base}/v1/consent`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        phone: QUIET.phone,
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Agreed on the phone',
      }),
    });
    const sent = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': 'start-test-night' },
      body: JSON.stringify({
        from: '+12025550100',
        contact: { crm: 'sandbox', objectType: 'contact', id: QUIET.contact.ref.id },
        body: 'Hello from the relay',
      }),
    });
    expect(sent.status).toBe(422);
    const { error } = await sent.json();
    expect(error.code).toBe('QUIET_HOURS');
    expect(Date.parse(error.details.nextAllowedAt)).toBeGreaterThan(Date.now());
  });

  it('follows the README: texts the demo contact the banner names to the phone simulator, and carries the reply back', async () => {
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    // "export TO=… REF=…", printed under "Text now": a contact quiet hours allow at this hour.
    const [, customer, ref] = (await waitFor(/export TO=(\+\d+) REF=(\S+)/)) as unknown as [
      string,
      string,
      string,
    ];
    expect(output).toMatch(/Text now: {8}\S/);
    const consent = await fetch(`${base}/v1/consent`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        phone: customer,
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Agreed on the phone, 2026-11-22',
      }),
    });
    expect(consent.status).toBe(201);
    // By CRM record, as the README does: the relay reads the phone and time zone from the CRM.
    const sent = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': 'start-test-1' },
      body: JSON.stringify({
        from: '+12025550100',
        contact: { crm: 'sandbox', objectType: 'contact', id: ref },
        body: 'Hello from the relay',
      }),
    });
    expect(sent.status, await sent.clone().text()).toBe(202);
    const conversationId: string = (await sent.json()).message.conversationId;

    const deadline = Date.now() + 10_000;
    let phone: { messages: { direction: string; body: string }[] } = { messages: [] };
    // The first text of a conversation carries the sender's name and the opt-out notice.
    while (Date.now() < deadline && !phone.messages.some((m) => m.body.includes('Hello from the relay'))) {
      phone = await (
        await fetch(`${base}/sandbox/phone/api/state?handset=${encodeURIComponent(customer)}`)
      ).json();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(phone.messages.map((m) => m.body)).toContain(
      'Acme Dental: Hello from the relay. Reply STOP to opt out.',
    );

    const reply = await fetch(`${base}/sandbox/phone/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handset: customer, service: '+12025550100', text: 'Thanks, see you then' }),
    });
    expect(reply.status).toBe(202);
    const thread = await (
      await fetch(`${base}/v1/conversations/${conversationId}/messages`, { headers: auth })
    ).json();
    expect(thread.messages[0]).toMatchObject({ direction: 'inbound', body: 'Thanks, see you then' });
  });

  it('shuts down cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('Stopped cleanly.');
    // Readable warnings, and not one line per request for all the requests above.
    expect(output).toMatch(/^\[\d{2}:\d{2}:\d{2}\] WARN: SECRETS_KEY is not set/m);
    expect(output).not.toMatch(/^\{"level"/m);
    expect(output).not.toContain('incoming request');
    expect(fs.existsSync(path.join(dataDir, 'relay.lock'))).toBe(false);
  });
});
