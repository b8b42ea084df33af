import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrmRegistry } from '../../crm-plugins/registry.ts';
import { buildApp } from '../../server/app.ts';
import { createUser } from '../../server/auth/users.ts';
import { loadConfig } from '../../server/config.ts';
import { staticCrms } from '../../server/crm-sync/org-crms.ts';
import type { Database } from '../../server/db/database.ts';
import { hostName, isLoopbackAddress } from '../../server/http/sandbox-guard.ts';
import type { App, Deps } from '../../server/http/services.ts';
import { validatorCompiler } from '../../server/http/validation.ts';
import { EventHub } from '../../server/live/events.ts';
import { Notifier } from '../../server/live/notifier.ts';
import { OutgoingMail } from '../../server/mail/outgoing.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { PlivoProvider } from '../../server/providers/plivo.ts';
import { ROUTE_MODULES } from '../../server/routes/registry.ts';
import { SendBatcher } from '../../server/workers/send-batcher.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  eventually,
  freshPgliteRelay,
  seedOrg,
  type TestOrg,
  type TestRelay,
} from '../helpers/relay.ts';

// Issue #13, finding 6: the sandbox tools answered anyone. A reset link read from /sandbox/mail is
// the owner's account; a web page could text STOP as any customer through the phone simulator.

const OWNER_EMAIL = 'owner@acme-dental.example';
const STRANGER = '203.0.113.9';

let relay: TestRelay;
let org: TestOrg;

beforeAll(async () => {
  relay = await freshPgliteRelay();
  org = await seedOrg(relay.db);
  await createUser(relay.db, {
    orgId: org.orgId,
    email: OWNER_EMAIL,
    role: 'owner',
    password: 'correct horse battery staple',
    actor: 'test',
    now: relay.clock(),
    publicUrl: relay.config.publicUrl,
  });
});
afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

const errorCode = (body: string): unknown => (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;

async function consentOf(phone: string): Promise<unknown> {
  const answer = await relay.app.inject({
    method: 'GET',
    url: `/v1/consent/${encodeURIComponent(phone)}`,
    headers: org.auth,
  });
  return (JSON.parse(answer.body) as { status?: unknown }).status;
}

/** Every /sandbox route the route modules declare (registered on a bare Fastify with an onRoute hook). */
async function sandboxRoutes(): Promise<{ method: HTTPMethods; url: string }[]> {
  const probe = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  probe.setValidatorCompiler(validatorCompiler);
  const routes: { method: HTTPMethods; url: string }[] = [];
  probe.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/sandbox')) return;
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url.replace(':id', 'c-1001') });
    }
  });
  const deps: Deps = {
    config: relay.config,
    db: relay.db,
    sms: relay.sandbox,
    sandbox: relay.sandbox,
    notifier: new Notifier(relay.db),
    sends: new SendBatcher(relay.db),
    hub: new EventHub(relay.db),
    crm: staticCrms(createCrmRegistry(['sandbox'])),
    clock: relay.clock,
    mail: new SandboxMailTransport(relay.db),
    outgoingMail: new OutgoingMail(new SandboxMailTransport(relay.db)),
    payments: relay.payments,
  };
  for (const register of Object.values(ROUTE_MODULES)) register(probe, deps);
  await probe.ready();
  await probe.close();
  return routes;
}

describe('sandbox tools answer only the person at this machine', () => {
  it('refuses /sandbox/mail to a caller off this machine, so a reset link cannot be read remotely', async () => {
    const reset = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset',
      remoteAddress: STRANGER,
      payload: { email: OWNER_EMAIL },
    });
    expect(reset.statusCode).toBe(202);
    const mail = await relay.app.inject({ method: 'GET', url: '/sandbox/mail', remoteAddress: STRANGER });
    expect(mail.statusCode).toBe(403);
    expect(errorCode(mail.body)).toBe('SANDBOX_LOOPBACK_ONLY');
    expect(mail.body).not.toContain('/auth/reset?token=');
    // A forwarded header claiming loopback changes nothing: only the socket counts.
    const forged = await relay.app.inject({
      method: 'GET',
      url: '/sandbox/mail',
      remoteAddress: STRANGER,
      headers: { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' },
    });
    expect(forged.statusCode).toBe(403);
    // The person at the machine still reads it (once it is sent: mail goes out after the answer).
    await eventually(async () => (await relay.db.query('SELECT 1 FROM sandbox_mail')).length > 0);
    const local = await relay.app.inject({
      method: 'GET',
      url: '/sandbox/mail',
      headers: { host: '127.0.0.1:8787' },
    });
    expect(local.statusCode).toBe(200);
    expect(local.body).toContain('/auth/reset?token=');
  });

  it('refuses /sandbox/mail on loopback when Host names another site (DNS rebinding)', async () => {
    const mail = await relay.app.inject({
      method: 'GET',
      url: '/sandbox/mail',
      headers: { host: 'evil.example' },
    });
    expect(mail.statusCode).toBe(421);
    expect(errorCode(mail.body)).toBe('HOST_NOT_ALLOWED');
    expect(mail.body).not.toContain('/auth/reset?token=');
  });

  it('refuses the rest of the sandbox relay to a rebound Host as well', async () => {
    for (const url of ['/healthz', '/v1/me', '/no-such-page']) {
      const answer = await relay.app.inject({
        method: 'GET',
        url,
        headers: { ...org.auth, host: 'evil.example:8787' },
      });
      expect(answer.statusCode, url).toBe(421);
      expect(errorCode(answer.body)).toBe('HOST_NOT_ALLOWED');
    }
    // PUBLIC_URL's host and the loopback names with any port are this relay.
    for (const host of ['relay.test', 'localhost:8787', '127.0.0.1:3000', '[::1]:8787', 'LOCALHOST']) {
      const answer = await relay.app.inject({ method: 'GET', url: '/healthz', headers: { host } });
      expect(answer.statusCode, host).toBe(200);
    }
  });

  it("refuses the phone simulator's state (every org's texts) off this machine and to a foreign Host", async () => {
    await relay.sandbox.textFromHandset({ handset: CUSTOMER, service: org.sender, text: 'secret reply' });
    const url = `/sandbox/phone/api/state?handset=${encodeURIComponent(CUSTOMER)}`;
    const remote = await relay.app.inject({ method: 'GET', url, remoteAddress: STRANGER });
    expect(remote.statusCode).toBe(403);
    expect(remote.body).not.toContain('secret reply');
    const rebound = await relay.app.inject({ method: 'GET', url, headers: { host: 'relay.test' } });
    expect(rebound.statusCode).toBe(421);
    expect(rebound.body).not.toContain('secret reply');
    const local = await relay.app.inject({ method: 'GET', url });
    expect(local.statusCode).toBe(200);
    expect(local.body).toContain('secret reply');
  });

  it('guards every /sandbox route it registers, not just the ones named here', async () => {
    const routes = await sandboxRoutes();
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['GET /sandbox/mail', 'GET /sandbox/crm', 'POST /sandbox/phone/api/send']),
    );
    for (const route of routes) {
      const remote = await relay.app.inject({ ...route, remoteAddress: STRANGER });
      expect(remote.statusCode, `${route.method} ${route.url}`).toBe(403);
      expect(errorCode(remote.body)).toBe('SANDBOX_LOOPBACK_ONLY');
    }
  });
});

describe('sandbox writes come only from the sandbox pages, as JSON', () => {
  it('refuses a cross-site form POST that would text STOP as the customer', async () => {
    const before = await consentOf(CUSTOMER);
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/sandbox/phone/api/send',
      headers: {
        host: '127.0.0.1:8787',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({ handset: CUSTOMER, service: org.sender, text: 'STOP' }).toString(),
    });
    expect(answer.statusCode).toBe(403);
    expect(errorCode(answer.body)).toBe('CROSS_SITE_REQUEST');
    expect(await consentOf(CUSTOMER)).toBe(before);
  });

  it('refuses a cross-site JSON POST by its Origin alone (a browser without Sec-Fetch-Site)', async () => {
    const before = await consentOf(CUSTOMER);
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:9999']) {
      const answer = await relay.app.inject({
        method: 'POST',
        url: '/sandbox/phone/api/send',
        headers: { host: '127.0.0.1:8787', origin },
        payload: { handset: CUSTOMER, service: org.sender, text: 'STOP' },
      });
      expect(answer.statusCode, origin).toBe(403);
      expect(errorCode(answer.body)).toBe('CROSS_SITE_REQUEST');
    }
    expect(await consentOf(CUSTOMER)).toBe(before);
  });

  it('refuses a same-origin form body with 415: the simulator takes JSON only', async () => {
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/sandbox/phone/api/send',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ handset: CUSTOMER, service: org.sender, text: 'HELP' }).toString(),
    });
    expect(answer.statusCode).toBe(415);
    expect(errorCode(answer.body)).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it("accepts the simulator page's own request (same-origin JSON)", async () => {
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/sandbox/phone/api/send',
      headers: { host: '127.0.0.1:8787', origin: 'http://127.0.0.1:8787', 'sec-fetch-site': 'same-origin' },
      payload: { handset: CUSTOMER, service: org.sender, text: 'hello from the simulator' },
    });
    expect(answer.statusCode, answer.body).toBe(202);
  });
});

describe('form bodies only where a provider or a plain HTML form posts them', () => {
  it('refuses a form body on a JSON API route with 415 and changes nothing', async () => {
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: { ...org.auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        phone: '+12025550177',
        kind: 'opt_out',
        source: 'web_form',
        evidence: 'a form on another site',
      }).toString(),
    });
    expect(answer.statusCode).toBe(415);
    expect(errorCode(answer.body)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await consentOf('+12025550177')).not.toBe('opted_out');
  });

  it('still answers 404 to a form body sent to an unknown URL', async () => {
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/no-such-route',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    expect(answer.statusCode).toBe(404);
  });
});

describe('a Plivo-mode relay has no sandbox', () => {
  let db: Database;
  let app: App;
  let plivoOrg: TestOrg;

  beforeAll(async () => {
    db = await freshPglite();
    const config = loadConfig({
      SMS_PROVIDER: 'plivo',
      PLIVO_AUTH_ID: 'MAXXXXXXXXXXXXXXXXXX',
      PLIVO_AUTH_TOKEN: 'token',
      PLIVO_API_URL: 'http://127.0.0.1:1',
      PUBLIC_URL: 'https://relay.example.com',
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      SMTP_URL: 'smtp://127.0.0.1:1',
    });
    const sms = new PlivoProvider({
      authId: 'MAXXXXXXXXXXXXXXXXXX',
      authToken: 'token',
      apiUrl: 'http://127.0.0.1:1',
    });
    app = await buildApp({ config: { ...config, workerEnabled: false }, db, sms });
    await app.ready();
    plivoOrg = await seedOrg(db);
  });
  afterAll(async () => {
    await app.close();
    await db.close();
  });

  it('has no sandbox CRM: its demo contacts cannot be looked up or texted', async () => {
    const lookup = await app.inject({
      method: 'GET',
      url: '/v1/contacts/lookup?crm=sandbox&objectType=contact&id=c-1001',
      headers: plivoOrg.auth,
    });
    expect(lookup.statusCode, lookup.body).toBe(409);
    expect(errorCode(lookup.body)).toBe('CRM_NOT_CONNECTED');
  });

  it('registers none of the sandbox tools', async () => {
    for (const url of ['/sandbox/mail', '/sandbox/crm', '/sandbox/phone', '/sandbox/phone/api/state']) {
      const answer = await app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(404);
    }
  });
});

describe('what counts as this machine', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['203.0.113.9', false],
    ['::ffff:203.0.113.9', false],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    [undefined, false],
  ])('socket address %s is loopback: %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it.each([
    ['127.0.0.1:8787', '127.0.0.1'],
    ['LocalHost', 'localhost'],
    ['[::1]:8787', '[::1]'],
    ['127.0.0.1.evil.example', '127.0.0.1.evil.example'],
    ['localhost.evil.example:8787', 'localhost.evil.example'],
    ['evil.example@127.0.0.1', null],
    ['127.0.0.1:8787:1', null],
    ['', null],
    [undefined, null],
  ])('Host %s names %s', (header, name) => {
    expect(hostName(header)).toBe(name);
  });
});
