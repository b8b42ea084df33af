import path from 'node:path';
import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import { buildApp } from '../../server/app.ts';
import type { Role } from '../../server/auth/permissions.ts';
import { createUser } from '../../server/auth/users.ts';
import { type Config, loadConfig } from '../../server/config.ts';
import type { Database } from '../../server/db/database.ts';
import type { App } from '../../server/http/services.ts';
import type { MailTransport } from '../../server/mail/transport.ts';
import { addSenderNumber, createKeyForOrg, createOrg } from '../../server/organisations/org-admin.ts';
import type { Payments } from '../../server/payments/payments.ts';
import { createPayments } from '../../server/payments/select.ts';
import { SandboxSmsNetwork } from '../../server/providers/sandbox-sms.ts';
import { OutboxWorker } from '../../server/workers/outbox-worker.ts';

export const TEST_TOKEN = 'sandbox-test-token';
export const SENDER = '+12025550100';
export const CUSTOMER = '+12025550143';

/** A stand-in build of the admin console, so server tests never depend on `npm run build:admin`. */
export const TEST_ADMIN_DIR = path.join(import.meta.dirname, 'admin-build');

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ PUBLIC_URL: 'http://relay.test' }),
    workerEnabled: false,
    adminDir: TEST_ADMIN_DIR,
    ...overrides,
  };
}

export interface TestRelay {
  app: App;
  db: Database;
  sandbox: SandboxSmsNetwork;
  worker: OutboxWorker;
  config: Config;
  /** Payment links (the sandbox provider unless the config says otherwise); null when off. */
  payments: Payments | null;
  /** The relay's clock (its app and its worker share it). */
  clock: () => Date;
  close(): Promise<void>;
}

/**
 * When this module loaded, and that day's 17:00 UTC: every daytime clock of a test file starts
 * from the same anchor, so two made a moment apart across midnight UTC (a run at 23:59:59, or
 * `npm run test:clock`'s New Year) cannot disagree by a day.
 */
const LOADED_AT = Date.now();
const DAY_ANCHOR = (() => {
  const start = new Date(LOADED_AT);
  start.setUTCHours(17, 0, 0, 0);
  return start.getTime();
})();

/**
 * A compliance clock that runs in real time but starts at today's 17:00 UTC (noon in New York,
 * 9 a.m. in California), so tests that send are not refused for quiet hours at night.
 */
export function daytimeClock(): () => Date {
  const offset = DAY_ANCHOR - LOADED_AT;
  return () => new Date(Date.now() + offset);
}

/**
 * Like daytimeClock(), but never behind the real time: the next 17:00 UTC at or after now, then
 * running. For a relay that a real browser talks to, whose token expiry times must not look past.
 * At its start Washington DC is at noon and Guam at 03:00, whatever the real hour.
 */
export function daytimeAheadClock(): () => Date {
  const anchor = DAY_ANCHOR < LOADED_AT ? DAY_ANCHOR + 24 * 3_600_000 : DAY_ANCHOR;
  const offset = anchor - LOADED_AT;
  return () => new Date(Date.now() + offset);
}

/**
 * A daytime clock (today's 17:00 UTC, running in real time) that a test moves forward: a day on for
 * a 24-hour limit, a minute on for a window. Never behind the real time's pace.
 */
export function steerableDaytimeClock(): { clock: () => Date; advance(ms: number): void } {
  const base = Date.now();
  const start = new Date(base);
  start.setUTCHours(17, 0, 0, 0);
  let offsetMs = 0;
  return {
    clock: () => new Date(start.getTime() + (Date.now() - base) + offsetMs),
    advance: (ms: number) => {
      offsetMs += ms;
    },
  };
}

/** A relay's app on a given database with the sandbox network (fast callbacks) and a worker not yet started. */
export async function testRelay(
  db: Database,
  options: {
    config?: Partial<Config>;
    delays?: { sentMs: number; deliveredMs: number };
    /** The compliance clock; daytimeClock() unless given. */
    clock?: () => Date;
    /** The installation's own CRM plugins (a sandbox CRM the test looks into). */
    crms?: CrmRegistry;
    /** Where the app's mail goes (the sandbox mailbox unless given). */
    mail?: MailTransport;
  } = {},
): Promise<TestRelay> {
  const config = testConfig(options.config);
  const sandbox = new SandboxSmsNetwork(
    db,
    TEST_TOKEN,
    config.publicUrl,
    () => undefined,
    options.delays ?? {
      sentMs: 5,
      deliveredMs: 15,
    },
  );
  const clock = options.clock ?? daytimeClock();
  const payments = await createPayments(config, db, clock, () => undefined);
  const app = await buildApp({
    config,
    db,
    sms: sandbox,
    clock,
    payments,
    ...(options.crms === undefined ? {} : { crms: options.crms }),
    ...(options.mail === undefined ? {} : { mail: options.mail }),
  });
  await app.ready();
  const worker = new OutboxWorker({
    db,
    provider: sandbox,
    log: () => undefined,
    clock,
  });
  return {
    app,
    db,
    sandbox,
    worker,
    config,
    payments,
    clock,
    async close() {
      await worker.stop();
      await app.close();
      await sandbox.close();
    },
  };
}

export interface TestOrg {
  orgId: string;
  key: string;
  auth: { authorization: string };
  sender: string;
}

/** An org with a sender number and a key of the given role. */
export async function seedOrg(
  db: Database,
  options: { name?: string; role?: Role; sender?: string } = {},
): Promise<TestOrg> {
  const { orgId } = await createOrg(db, options.name ?? 'Acme Dental');
  const sender = options.sender ?? SENDER;
  await addSenderNumber(db, { orgId, e164: sender });
  const { key } = await createKeyForOrg(db, { orgId, role: options.role ?? 'owner', name: 'test key' });
  return { orgId, key, auth: { authorization: `Bearer ${key}` }, sender };
}

export async function optIn(app: App, org: TestOrg, phone: string): Promise<void> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/consent',
    headers: org.auth,
    payload: { phone, kind: 'opt_in', source: 'web_form', evidence: 'Signed the web form on 2026-11-01' },
  });
  if (response.statusCode !== 201) throw new Error(`opt-in failed: ${response.body}`);
}

let counter = 0;
export function idemKey(): string {
  counter += 1;
  return `test-${Date.now()}-${counter}`;
}

/** Waits until check() returns a value (not undefined/false) or the time runs out. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A test relay on its own fresh in-memory PGlite (close the relay, then relay.db). */
export async function freshPgliteRelay(options: Parameters<typeof testRelay>[1] = {}): Promise<TestRelay> {
  const { freshPglite } = await import('./db.ts');
  return testRelay(await freshPglite(), options);
}

/** The password every user made by `signedInUser` has. */
export const TEST_PASSWORD = 'correct horse battery staple';

/** A new active user of the org with TEST_PASSWORD, not signed in; returns its id. */
export async function testUser(
  db: Database,
  input: { orgId: string; email: string; role?: string; now: Date },
): Promise<string> {
  const { user } = await createUser(db, {
    orgId: input.orgId,
    email: input.email,
    role: input.role ?? 'rep',
    password: TEST_PASSWORD,
    actor: 'test',
    now: input.now,
    publicUrl: 'http://relay.test',
  });
  return user.id;
}

/** A new user of the org with TEST_PASSWORD, signed in through POST /v1/auth/login (no second factor). */
export async function signedInUser(
  app: App,
  db: Database,
  input: { orgId: string; email: string; role: string; now: Date },
): Promise<{ userId: string; sessionId: string; accessToken: string; auth: { authorization: string } }> {
  const userId = await testUser(db, input);
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: input.email, password: TEST_PASSWORD },
  });
  if (response.statusCode !== 201) throw new Error(`sign-in failed: ${response.body}`);
  const { accessToken, sessionId } = response.json() as { accessToken: string; sessionId: string };
  return { userId, sessionId, accessToken, auth: { authorization: `Bearer ${accessToken}` } };
}
