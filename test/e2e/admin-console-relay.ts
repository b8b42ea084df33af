import { expect } from 'vitest';
import { ADMIN_OUT_DIR, buildAdminIfStale } from '../../scripts/admin-build.ts';
import { totpCode } from '../../server/auth/totp.ts';
import type { Config } from '../../server/config.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type steerableDaytimeClock,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';

/** What the relay answered a call made in-process. */
type Answer = Awaited<ReturnType<TestRelay['app']['inject']>>;

/** The admin the console browser tests sign in as (password and authenticator app). */
export const CONSOLE_ADMIN = 'ada@acme.test';
/** A customer who opted out: the rep's text to them is refused and queued for review. */
export const OPTED_OUT = '+12025550177';

/** A relay serving the built console, with an org, its admin, a rep, a text sent and one refused. */
export interface ConsoleRelay {
  relay: TestRelay;
  relayUrl: string;
  org: TestOrg;
  /** The admin's authenticator secret: a code for the relay's clock signs them in. */
  secret: string;
  rep: Awaited<ReturnType<typeof signedInUser>>;
  api(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    auth: { authorization: string },
    payload?: object,
  ): Promise<Answer>;
}

/**
 * Builds the console when stale and starts a relay on a free port for a browser to open; the clock
 * is the test's, so authenticator codes and quiet hours are the test's to decide.
 */
export async function consoleRelay(
  time: ReturnType<typeof steerableDaytimeClock>,
  options: {
    /** The name the browser opens the relay by: passkeys need a domain (localhost), not an IP address. */
    host?: '127.0.0.1' | 'localhost';
    config?: Partial<Config>;
  } = {},
): Promise<ConsoleRelay> {
  await buildAdminIfStale();
  const port = await freePort();
  const relayUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const relay = await testRelay(await freshPglite(), {
    config: { publicUrl: relayUrl, adminDir: ADMIN_OUT_DIR, ...options.config },
    clock: time.clock,
  });
  await relay.app.listen({ port, host: '127.0.0.1' });
  // Texts leave as in production: the outbox worker sends them and the sandbox reports delivery.
  await relay.worker.start();
  const org = await seedOrg(relay.db, { name: 'Acme Dental' });
  const api: ConsoleRelay['api'] = (method, url, auth, payload) =>
    relay.app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload }) });

  // The admin enrols an authenticator app as a person would.
  await testUser(relay.db, { orgId: org.orgId, email: CONSOLE_ADMIN, role: 'admin', now: relay.clock() });
  const login = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: CONSOLE_ADMIN, password: TEST_PASSWORD },
  });
  const auth = { authorization: `Bearer ${login.json().accessToken}` };
  const secret = (await api('POST', '/v1/auth/totp/enrol', auth)).json().secret as string;
  const confirmed = await api('POST', '/v1/auth/totp/confirm', auth, {
    code: totpCode(secret, relay.clock()),
  });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  // The next sign-in's code must be a fresh one: a used code is refused as a replay.
  time.advance(31_000);

  const rep = await signedInUser(relay.app, relay.db, {
    orgId: org.orgId,
    email: 'rita@acme.test',
    role: 'rep',
    now: relay.clock(),
  });
  const send = (to: string, body: string) =>
    api('POST', '/v1/messages', { ...rep.auth, 'idempotency-key': idemKey() } as never, {
      from: org.sender,
      to,
      body,
    });
  // Something for the reports (a text sent) and for the review queue (a send the rules refused).
  await optIn(relay.app, org, CUSTOMER);
  const sent = await send(CUSTOMER, 'Your cleaning is booked for Friday.');
  expect(sent.statusCode, sent.body).toBe(202);
  await optIn(relay.app, org, OPTED_OUT);
  await api('POST', '/v1/consent', org.auth, {
    phone: OPTED_OUT,
    kind: 'opt_out',
    source: 'verbal',
    evidence: 'Asked on the phone not to be texted',
  });
  expect((await send(OPTED_OUT, 'Checking in about your appointment.')).json().error.code).toBe('OPTED_OUT');
  return { relay, relayUrl, org, secret, rep, api };
}
