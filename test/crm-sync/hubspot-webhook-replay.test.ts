import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContactRef } from '../../crm-plugins/types.ts';
import { signHubSpotV3 } from '../../server/crm-sync/hubspot-webhook.ts';
import type { Database } from '../../server/db/database.ts';
import { isolateSalesforceHome } from '../crm-plugins/harnesses.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  eventually,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { connectAndInstall, HUBSPOT_APP, linkContacts, testKey } from './setup.ts';

/**
 * Issue #13, finding 13: a signed HubSpot webhook replayed inside its 5-minute window is
 * acknowledged but applied once only (events are deduplicated by event id), and an event is
 * attributed only to the connection of its own portal.
 */

const PORTAL = 62515;

let restoreHome: () => void = () => {};
beforeAll(() => {
  restoreHome = isolateSalesforceHome();
});
afterAll(() => restoreHome());

let db: Database;
let relay: TestRelay;
let fake: HubSpotFake;
let org: TestOrg;
let dana: ContactRef;
const warnings: string[] = [];

async function world(): Promise<void> {
  db = await freshPglite();
  const key = testKey();
  relay = await testRelay(db, { config: { secretsKey: key.bytes } });
  relay.app.log.warn = ((...args: unknown[]) => {
    warnings.push(JSON.stringify(args));
  }) as typeof relay.app.log.warn;
  fake = await startHubSpotFake({ oauth: HUBSPOT_APP });
  org = await seedOrg(db);
  await connectAndInstall(db, key, {
    orgId: org.orgId,
    crm: 'hubspot',
    settings: { baseUrl: fake.baseUrl, clientId: HUBSPOT_APP.clientId, portalId: String(PORTAL) },
    secrets: {
      accessToken: fake.accessToken,
      refreshToken: HUBSPOT_APP.refreshToken,
      clientSecret: HUBSPOT_APP.clientSecret,
    },
  });
  dana = {
    crm: 'hubspot',
    objectType: 'contact',
    id: fake.addContact({ firstname: 'Dana', lastname: 'W', phone: CUSTOMER, mobilephone: null }),
  };
  await linkContacts(db, org.orgId, org.sender, [{ phone: CUSTOMER, ref: dana }]);
}

afterEach(async () => {
  warnings.length = 0;
  await relay.close();
  await fake.close();
  await db.close();
});

/**
 * An opt-out set in HubSpot, as HubSpot stamps it: its clock a minute ahead of the relay's (within
 * the signature's 5-minute tolerance), so "the newer change wins" alone cannot tell a replay.
 */
const optOutEvent = (eventId: number, portalId = PORTAL, objectId = Number(dana.id)) => ({
  eventId,
  subscriptionId: 7,
  portalId,
  appId: 1,
  occurredAt: relay.clock().getTime() + 60_000,
  subscriptionType: 'contact.propertyChange',
  attemptNumber: 0,
  objectId,
  propertyName: 'sms_consent_status',
  propertyValue: 'opted_out',
  changeSource: 'CRM_UI',
});

/** A request exactly as HubSpot signs it, stamped now by the relay's clock. */
function signedRequest(events: unknown[]) {
  const body = JSON.stringify(events);
  const timestamp = String(relay.clock().getTime());
  return {
    method: 'POST' as const,
    url: '/webhooks/hubspot',
    payload: body,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-request-timestamp': timestamp,
      'x-hubspot-signature-v3': signHubSpotV3(
        HUBSPOT_APP.clientSecret,
        'POST',
        `${relay.config.publicUrl}/webhooks/hubspot`,
        body,
        timestamp,
      ),
    },
  };
}

const ledger = () =>
  db.query<{ kind: string; source: string }>(
    'SELECT kind, source FROM consent_events WHERE org_id = $1 ORDER BY id',
    [org.orgId],
  );

const status = async () =>
  (
    await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(CUSTOMER)}`,
      headers: org.auth,
    })
  ).json().status as string;

describe('HubSpot webhook replay', () => {
  it('acknowledges a replayed opt-out after the customer opted back in, and does not apply it again', async () => {
    await world();
    await optIn(relay.app, org, CUSTOMER);
    const request = signedRequest([optOutEvent(101)]);
    const first = await relay.app.inject(request);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ optOuts: 1 });
    expect(await status()).toBe('opted_out');

    // The customer texts START: texting is theirs to re-open.
    await relay.sandbox.textFromHandset({ handset: CUSTOMER, service: org.sender, text: 'START' });
    await eventually(async () => (await status()) === 'opted_in');
    const before = await ledger();

    const replayed = await relay.app.inject(request);
    expect(replayed.statusCode, replayed.body).toBe(200);
    expect(replayed.json()).toMatchObject({ optOuts: 0, duplicates: 1 });
    expect(await status()).toBe('opted_in');
    expect(await ledger()).toEqual(before);
  });

  it('applies a HubSpot retry of the same event (new timestamp and signature) once only', async () => {
    await world();
    await optIn(relay.app, org, CUSTOMER);
    const event = optOutEvent(202);
    expect((await relay.app.inject(signedRequest([event]))).json()).toMatchObject({ optOuts: 1 });
    await relay.sandbox.textFromHandset({ handset: CUSTOMER, service: org.sender, text: 'START' });
    await eventually(async () => (await status()) === 'opted_in');
    const retry = await relay.app.inject(signedRequest([{ ...event, attemptNumber: 1 }]));
    expect(retry.json()).toMatchObject({ optOuts: 0, duplicates: 1 });
    expect(await status()).toBe('opted_in');
  });

  it('does not hand a replayed event for an unknown contact to the worker a second time', async () => {
    await world();
    const stranger = fake.addContact({
      firstname: 'Sam',
      lastname: 'O',
      phone: '+13035550161',
      mobilephone: null,
    });
    const request = signedRequest([optOutEvent(404, PORTAL, Number(stranger))]);
    expect((await relay.app.inject(request)).statusCode).toBe(200);
    await db.query(`UPDATE crm_sync_jobs SET state = 'done' WHERE kind = 'crm_optout'`);
    const replayed = await relay.app.inject(request);
    expect(replayed.json()).toMatchObject({ duplicates: 1 });
    const jobs = await db.query<{ state: string }>(
      `SELECT state FROM crm_sync_jobs WHERE kind = 'crm_optout'`,
    );
    expect(jobs).toEqual([{ state: 'done' }]);
  });
});

describe('HubSpot webhook attribution', () => {
  it("ignores another portal's event even when only one connection exists, and says so", async () => {
    await world();
    await optIn(relay.app, org, CUSTOMER);
    const before = await ledger();
    const response = await relay.app.inject(signedRequest([optOutEvent(301, 99_999)]));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ received: 1, optOuts: 0, ignored: 1 });
    expect(await ledger()).toEqual(before);
    expect(await status()).toBe('opted_in');
    const queued = await db.query(`SELECT 1 FROM crm_sync_jobs WHERE kind = 'crm_optout'`);
    expect(queued).toEqual([]);
    expect(warnings.join('\n')).toContain('99999');
  });
});
