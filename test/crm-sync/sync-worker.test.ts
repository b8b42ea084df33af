import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContactRef } from '../../crm-plugins/types.ts';
import { openSecrets } from '../../server/crm-sync/connections.ts';
import { signHubSpotV3 } from '../../server/crm-sync/hubspot-webhook.ts';
import { open } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { runRetention } from '../../server/retention/purge.ts';
import { updateStatus } from '../../server/stores/messages.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { isolateSalesforceHome } from '../crm-plugins/harnesses.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { connectAndInstall, HUBSPOT_APP, linkContacts, testKey, testWorker, until } from './setup.ts';

let restoreHome: () => void = () => {};
beforeAll(() => {
  restoreHome = isolateSalesforceHome();
});
afterAll(() => restoreHome());

interface HubSpotWorld {
  db: Database;
  relay: TestRelay;
  fake: HubSpotFake;
  org: TestOrg;
  key: ReturnType<typeof testKey>;
  dana: ContactRef;
  close(): Promise<void>;
}

/** A relay with HubSpot connected (OAuth app, so webhooks can be signed) and CUSTOMER as a known contact. */
async function hubspotWorld(delays?: { sentMs: number; deliveredMs: number }): Promise<HubSpotWorld> {
  const db = await freshPglite();
  const key = testKey();
  // The relay opens the connection's sealed client secret with the same key to verify webhooks.
  const relay = await testRelay(db, { config: { secretsKey: key.bytes }, ...(delays ? { delays } : {}) });
  const fake = await startHubSpotFake({ oauth: HUBSPOT_APP });
  const org = await seedOrg(db);
  await connectAndInstall(db, key, {
    orgId: org.orgId,
    crm: 'hubspot',
    settings: { baseUrl: fake.baseUrl, clientId: HUBSPOT_APP.clientId, portalId: '62515' },
    secrets: {
      accessToken: fake.accessToken,
      refreshToken: HUBSPOT_APP.refreshToken,
      clientSecret: HUBSPOT_APP.clientSecret,
    },
  });
  const dana: ContactRef = {
    crm: 'hubspot',
    objectType: 'contact',
    id: fake.addContact({ firstname: 'Dana', lastname: 'W', phone: CUSTOMER, mobilephone: null }),
  };
  await linkContacts(db, org.orgId, org.sender, [{ phone: CUSTOMER, ref: dana }]);
  return {
    db,
    relay,
    fake,
    org,
    key,
    dana,
    async close() {
      await relay.close();
      await fake.close();
      await db.close();
    },
  };
}

/** Opts CUSTOMER in and texts Dana through the API; the accepted send's answer. */
async function optInAndText(w: HubSpotWorld) {
  await optIn(w.relay.app, w.org, CUSTOMER);
  const sent = await w.relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...w.org.auth, 'idempotency-key': idemKey() },
    payload: { from: w.org.sender, to: CUSTOMER, body: 'Your appointment is at 3 pm.', contact: w.dana },
  });
  expect(sent.statusCode, sent.body).toBe(202);
  return sent;
}

describe('CRM sync worker with HubSpot', () => {
  let w: HubSpotWorld;
  afterEach(async () => {
    await w.close();
  });

  it('writes a consent change onto the HubSpot contact within seconds', async () => {
    w = await hubspotWorld();
    const { worker } = testWorker(w.db, w.key);
    await worker.start();
    try {
      const started = Date.now();
      await optIn(w.relay.app, w.org, CUSTOMER);
      await until(async () => w.fake.contact(w.dana.id)?.properties.sms_consent_status === 'opted_in', 5000);
      const response = await w.relay.app.inject({
        method: 'POST',
        url: '/v1/consent',
        headers: w.org.auth,
        payload: {
          phone: CUSTOMER,
          kind: 'opt_out',
          source: 'verbal',
          evidence: 'Asked on the phone to stop texts',
        },
      });
      expect(response.statusCode).toBe(201);
      await until(async () => w.fake.contact(w.dana.id)?.properties.sms_consent_status === 'opted_out', 5000);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(w.fake.contact(w.dana.id)?.properties.sms_consent_source).toBe('verbal');
    } finally {
      await worker.stop();
    }
  });

  it('logs sent and received texts on the contact once, and a retried pass adds nothing', async () => {
    w = await hubspotWorld();
    const { worker } = testWorker(w.db, w.key);
    await optInAndText(w);
    await w.relay.worker.drain();
    await w.relay.sandbox.textFromHandset({ handset: CUSTOMER, service: w.org.sender, text: 'See you then' });
    const logged = await until(async () => {
      await worker.drain();
      const comms = w.fake.communications().filter((c) => c.associations.includes(w.dana.id));
      return comms.length === 2 ? comms : false;
    });
    // The relay may add its first-contact identification to the text; the stored text is what is logged.
    const bodies = logged.map((c) => String(c.properties.hs_communication_body)).sort();
    expect(bodies[0]).toBe(`Inbound SMS from ${CUSTOMER}:\nSee you then`);
    expect(bodies[1]).toMatch(
      new RegExp(
        `^Outbound SMS to \\${CUSTOMER} \\((?:sent|delivered)\\):\n.*Your appointment is at 3 pm\\.`,
      ),
    );
    await w.db.query(`UPDATE crm_sync_jobs SET state = 'queued' WHERE kind = 'message'`);
    await worker.drain();
    expect(w.fake.communications()).toHaveLength(2);
  });

  it('writes a later delivery outcome back onto the logged entry (no second entry)', async () => {
    w = await hubspotWorld({ sentMs: 5, deliveredMs: 3_600_000 });
    const { worker } = testWorker(w.db, w.key);
    const sent = await optInAndText(w);
    const id = String((sent.json() as { message: { id: string } }).message.id);
    await w.relay.worker.drain();
    await until(async () => {
      const [row] = await w.db.query<{ status: string }>(`SELECT status FROM messages WHERE id = $1`, [id]);
      return row?.status === 'sent';
    });
    const comms = () => w.fake.communications().filter((c) => c.associations.includes(w.dana.id));
    await until(async () => {
      await worker.drain();
      return comms().length === 1;
    });
    expect(String(comms()[0]?.properties.hs_communication_body)).toMatch(/^Outbound SMS to \S+ \(sent\):/);

    await w.db.transaction((tx) => updateStatus(tx, id, { status: 'undelivered', errorCode: '30003' }));
    await until(async () => {
      await worker.drain();
      return String(comms()[0]?.properties.hs_communication_body).includes('(undelivered)');
    });
    expect(comms()).toHaveLength(1);
    const [job] = await w.db.query<{ state: string }>(`SELECT state FROM crm_sync_jobs WHERE subject = $1`, [
      `${id}#undelivered`,
    ]);
    expect(job?.state).toBe('done');
  });

  it('rewrites the logged entry without its body when retention purges it and the org chose purgeCrmCopy', async () => {
    w = await hubspotWorld();
    const { worker } = testWorker(w.db, w.key);
    await optInAndText(w);
    await w.relay.worker.drain();
    const comms = () => w.fake.communications().filter((c) => c.associations.includes(w.dana.id));
    await until(async () => {
      await worker.drain();
      return comms().length === 1;
    });
    const by = { actor: 'test', at: w.relay.clock() };
    await w.db.transaction(async (tx) => {
      await setOrgSetting(tx, w.org.orgId, 'retention.messageBodyDays', '1', by);
      await setOrgSetting(tx, w.org.orgId, 'retention.purgeCrmCopy', 'true', by);
    });
    // Two days on by the relay's clock, the text is past the org's one-day body period.
    const now = new Date(w.relay.clock().getTime() + 2 * 86_400_000);
    const report = await runRetention(w.db, { orgId: w.org.orgId, now, dryRun: false, actor: 'test' });
    expect(report).toMatchObject({ bodiesPurged: 1, crmUpdatesQueued: 1 });

    await until(async () => {
      await worker.drain();
      return !String(comms()[0]?.properties.hs_communication_body).includes('appointment');
    });
    expect(comms()).toHaveLength(1);
    expect(String(comms()[0]?.properties.hs_communication_body)).toMatch(/^Outbound SMS to \S+ \(\w+\):\n$/);
  });

  describe('webhook (POST /webhooks/hubspot)', () => {
    const event = (objectId: string, value = 'opted_out') => [
      {
        eventId: 1,
        subscriptionId: 7,
        portalId: 62515,
        appId: 1,
        occurredAt: w.relay.clock().getTime(),
        subscriptionType: 'contact.propertyChange',
        attemptNumber: 0,
        objectId: Number(objectId),
        propertyName: 'sms_consent_status',
        propertyValue: value,
        changeSource: 'CRM_UI',
      },
    ];
    const post = (body: string, headers: Record<string, string>) =>
      w.relay.app.inject({
        method: 'POST',
        url: '/webhooks/hubspot',
        headers: { 'content-type': 'application/json', ...headers },
        payload: body,
      });
    // HubSpot's clock and the relay's agree in life; here the relay's runs at midday, so the
    // requests are stamped by it.
    const signed = (
      body: string,
      secret = HUBSPOT_APP.clientSecret,
      timestamp = String(w.relay.clock().getTime()),
    ) => ({
      'x-hubspot-request-timestamp': timestamp,
      'x-hubspot-signature-v3': signHubSpotV3(
        secret,
        'POST',
        `${w.relay.config.publicUrl}/webhooks/hubspot`,
        body,
        timestamp,
      ),
    });
    const ledger = () =>
      w.db.query<{ kind: string; source: string }>(
        `SELECT kind, source FROM consent_events WHERE org_id = $1`,
        [w.org.orgId],
      );

    it('records an opt-out set in HubSpot when the v3 signature is valid, and it blocks sends', async () => {
      w = await hubspotWorld();
      await optIn(w.relay.app, w.org, CUSTOMER);
      const body = JSON.stringify(event(w.dana.id));
      const response = await post(body, signed(body));
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ optOuts: 1 });
      expect((await ledger()).at(-1)).toMatchObject({ kind: 'opt_out', source: 'crm_change' });
      const send = await w.relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...w.org.auth, 'idempotency-key': idemKey() },
        payload: { from: w.org.sender, to: CUSTOMER, body: 'Still there?' },
      });
      expect(send.statusCode).toBe(422);
      expect(send.json()).toMatchObject({ error: { code: 'OPTED_OUT' } });
    });

    it('refuses a wrong signature, one for another body, and none at all (403 INVALID_SIGNATURE)', async () => {
      w = await hubspotWorld();
      const body = JSON.stringify(event(w.dana.id));
      const other = JSON.stringify(event('999'));
      for (const headers of [signed(body, 'not-the-secret'), signed(other), {}]) {
        const response = await post(body, headers);
        expect(response.statusCode).toBe(403);
        expect(response.json()).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });
      }
      expect(await ledger()).toEqual([]);
    });

    it('refuses a correctly signed but stale request (timestamp over 5 minutes old)', async () => {
      w = await hubspotWorld();
      const body = JSON.stringify(event(w.dana.id));
      const response = await post(
        body,
        signed(body, HUBSPOT_APP.clientSecret, String(w.relay.clock().getTime() - 6 * 60_000)),
      );
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: { code: 'STALE_WEBHOOK' } });
      expect(await ledger()).toEqual([]);
    });

    it('hands an opt-out on a contact the relay does not know to the worker, which looks it up', async () => {
      w = await hubspotWorld();
      const stranger = w.fake.addContact({
        firstname: 'Sam',
        lastname: 'O',
        phone: '+13035550161',
        mobilephone: null,
      });
      const body = JSON.stringify(event(stranger));
      expect((await post(body, signed(body))).statusCode).toBe(200);
      const { worker } = testWorker(w.db, w.key);
      await worker.drain();
      const rows = await w.db.query<{ phone_e164: string; kind: string }>(
        `SELECT phone_e164, kind FROM consent_events WHERE org_id = $1`,
        [w.org.orgId],
      );
      expect(rows).toEqual([{ phone_e164: phoneToken(w.db, '+13035550161'), kind: 'opt_out' }]);
    });
  });

  it('dead-letters a write that keeps failing; an admin lists it and replays it', async () => {
    w = await hubspotWorld();
    const { worker } = testWorker(w.db, w.key, { maxAttempts: 1 });
    await w.relay.sandbox.textFromHandset({ handset: CUSTOMER, service: w.org.sender, text: 'Hello?' });
    const [message] = await w.db.query<{ id: string }>(`SELECT id FROM messages WHERE direction = 'inbound'`);
    w.fake.failNextCommunicationsFor([String(message?.id)]);
    await worker.drain();
    const list = await w.relay.app.inject({
      method: 'GET',
      url: '/v1/admin/crm/dead-letters',
      headers: w.org.auth,
    });
    expect(list.statusCode).toBe(200);
    const [letter] = (list.json() as { deadLetters: { id: string; subject: string; kind: string }[] })
      .deadLetters;
    expect(letter).toMatchObject({ kind: 'message', subject: message?.id });
    expect(w.fake.communications()).toHaveLength(0);

    const replay = await w.relay.app.inject({
      method: 'POST',
      url: `/v1/admin/crm/dead-letters/${letter?.id}/replay`,
      headers: w.org.auth,
    });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ deadLetter: { id: letter?.id, replayedAt: expect.any(String) } });
    await worker.drain();
    expect(w.fake.communications().map((c) => c.properties.sms_relay_message_id)).toEqual([message?.id]);
    const open = await w.relay.app.inject({
      method: 'GET',
      url: '/v1/admin/crm/dead-letters',
      headers: w.org.auth,
    });
    expect(open.json()).toEqual({ deadLetters: [] });
  });

  it('creates a HubSpot contact for an unknown inbound number only when the org asks for it', async () => {
    w = await hubspotWorld();
    const { worker } = testWorker(w.db, w.key);
    await w.relay.sandbox.textFromHandset({
      handset: '+14155550132',
      service: w.org.sender,
      text: 'Who is this?',
    });
    await worker.drain();
    expect(w.fake.communications()).toHaveLength(0);
    const before = await w.fake.communications().length;
    expect(before).toBe(0);

    await w.db.query(
      `UPDATE orgs SET settings = settings || '{"crm":{"unknownInbound":"create"}}' WHERE id = $1`,
      [w.org.orgId],
    );
    await w.relay.sandbox.textFromHandset({
      handset: '+14155550177',
      service: w.org.sender,
      text: 'Price list please',
    });
    await worker.drain();
    const comms = w.fake.communications();
    expect(comms).toHaveLength(1);
    const contactId = comms[0]?.associations[0] ?? '';
    expect(w.fake.contact(contactId)?.properties.phone).toBe('+14155550177');
  });

  it('keeps tokens encrypted at rest: the row holds no token, and the blob opens only for its org', async () => {
    w = await hubspotWorld();
    const [row] = await w.db.query<{ secrets: string; settings: unknown; org_id: string; id: string }>(
      'SELECT id, org_id, secrets, settings FROM crm_connections',
    );
    const dump = JSON.stringify(row);
    expect(dump).not.toContain(w.fake.accessToken);
    expect(dump).not.toContain(HUBSPOT_APP.refreshToken);
    expect(dump).not.toContain(HUBSPOT_APP.clientSecret);
    expect(row?.secrets).toMatch(/^v1:[0-9a-f]{8}:/);
    const [connection] = await w.db.query<{ secrets: string }>('SELECT secrets FROM crm_connections');
    expect(() =>
      open(w.key, String(connection?.secrets), `crm_connection:${w.org.orgId}:salesforce`),
    ).toThrow();
    expect(() =>
      open(testKey(), String(connection?.secrets), `crm_connection:${w.org.orgId}:hubspot`),
    ).toThrow(/another key/);
    const { getConnection } = await import('../../server/crm-sync/connections.ts');
    expect(openSecrets(w.key, await getConnection(w.db, w.org.orgId, 'hubspot'))).toMatchObject({
      accessToken: w.fake.accessToken,
    });
  });
});

describe('CRM sync worker with Salesforce', () => {
  it('records an opt-out made in Salesforce (polled) in the ledger, and sends to that number are refused', async () => {
    const db = await freshPglite();
    // Salesforce stamps the edit with its own (real) clock, and a CRM edit older than the ledger's
    // last entry loses to it: the relay keeps real time here (the refusal is OPTED_OUT at any hour).
    const relay = await testRelay(db, { clock: () => new Date() });
    const fake = await startSalesforceFake();
    try {
      const key = testKey();
      const org = await seedOrg(db);
      await connectAndInstall(db, key, {
        orgId: org.orgId,
        crm: 'salesforce',
        settings: { instanceUrl: fake.instanceUrl },
        secrets: { accessToken: fake.accessToken },
      });
      const id = fake.addRecord('Contact', { LastName: 'Whitfield', Phone: '(202) 555-0143' });
      await optIn(relay.app, org, CUSTOMER);
      const { worker } = testWorker(db, key, { consentPollMs: 100 });
      await worker.drain();
      fake.setField('Contact', id, 'SMS_Consent_Status__c', 'opted_out');
      await until(async () => {
        await worker.drain();
        const rows = await db.query<{ kind: string; source: string }>(
          `SELECT kind, source FROM consent_events WHERE org_id = $1 ORDER BY id DESC LIMIT 1`,
          [org.orgId],
        );
        return rows[0]?.kind === 'opt_out' ? rows[0] : false;
      });
      const send = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...org.auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to: CUSTOMER, body: 'Reminder: your visit is tomorrow.' },
      });
      expect(send.statusCode).toBe(422);
      expect(send.json()).toMatchObject({ error: { code: 'OPTED_OUT' } });
      // The ledger's opt-out is projected back, so Salesforce stops reporting it as a CRM-side change.
      await until(async () => {
        await worker.drain();
        return fake.record('Contact', id)?.SMS_Relay_Projected_Status__c === 'opted_out';
      });
      const count = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM consent_events WHERE org_id = $1 AND source = 'crm_change'`,
        [org.orgId],
      );
      expect(count[0]?.n).toBe(1);
    } finally {
      await relay.close();
      await fake.close();
      await db.close();
    }
  });
});
