import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import { createSandboxCrm, type SandboxCrm } from '../../crm-plugins/sandbox/index.ts';
import type { ContactRef } from '../../crm-plugins/types.ts';
import { type CrmConnection, connectCrm } from '../../server/crm-sync/connections.ts';
import { withInstallationCrms } from '../../server/crm-sync/live-plugins.ts';
import type { CrmSyncWorkerOptions } from '../../server/crm-sync/sync-worker.ts';
import type { SecretsKey } from '../../server/crypto/secrets.ts';
import { paymentById, updatePayment } from '../../server/payments/payment-store.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { MANY_LINKS, setPaymentGuards } from '../helpers/payments.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { connectAndInstall, linkContacts, testKey, testWorker, until } from './setup.ts';

// A payment request's life reaches the org's CRM (#15 item 5): every status change queues a
// write-back, the sync worker writes the request's one entry on the contact's record, and the
// sandbox CRM's record page shows it. Another org's request never reaches this org's CRM.
postgresSkipNote('payment write-back to the CRM');

const DANA: ContactRef = { crm: 'sandbox', objectType: 'contact', id: 'c-1001' };

/** A registry holding just this sandbox CRM, as the installation's own. */
const registryOf = (crm: SandboxCrm): CrmRegistry => ({
  get: (id) => (id === 'sandbox' ? crm : null),
  list: () => [crm],
});

describe.each(ENGINES)('payment write-back on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let key: SecretsKey;
  let connection: CrmConnection;
  /** The installation's sandbox CRM (this org's connection), and the other org's own one. */
  const ours = createSandboxCrm();
  const theirs = createSandboxCrm();
  let drop: () => Promise<void>;
  /** A third org on HubSpot (the real SDK against the fake), with a deal its requests can name. */
  let hubspot: HubSpotFake;
  let onHubSpot: TestOrg;
  let hubspotDana: ContactRef;
  let worker: ReturnType<typeof testWorker>['worker'];
  let pluginFor: NonNullable<CrmSyncWorkerOptions['pluginFor']>;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    key = testKey();
    relay = await testRelay(database.db, {
      config: { secretsKey: key.bytes },
      crms: registryOf(ours),
    });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    // This file asks one customer for several payments; the guards are tested in payment-guards.test.ts.
    await setPaymentGuards(relay.db, org.orgId, MANY_LINKS);
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const by = { actor: 'test', at: relay.clock() };
    connection = await connectCrm(relay.db, key, {
      orgId: org.orgId,
      crm: 'sandbox',
      settings: {},
      secrets: { accessToken: 'sandbox' },
      by,
    });
    const theirConnection = await connectCrm(relay.db, key, {
      orgId: other.orgId,
      crm: 'sandbox',
      settings: {},
      secrets: { accessToken: 'sandbox' },
      by,
    });
    // Both orgs know the same customer as the same sandbox record id, each in its own CRM.
    await linkContacts(relay.db, org.orgId, org.sender, [{ phone: CUSTOMER, ref: DANA }]);
    await linkContacts(relay.db, other.orgId, other.sender, [{ phone: CUSTOMER, ref: DANA }]);
    await optIn(relay.app, org, CUSTOMER);
    await optIn(relay.app, other, CUSTOMER);
    hubspot = await startHubSpotFake();
    onHubSpot = await seedOrg(relay.db, { name: 'HubSpot Org', sender: '+12025550102' });
    await connectAndInstall(relay.db, key, {
      orgId: onHubSpot.orgId,
      crm: 'hubspot',
      settings: { baseUrl: hubspot.baseUrl },
      secrets: { accessToken: hubspot.accessToken },
    });
    hubspotDana = {
      crm: 'hubspot',
      objectType: 'contact',
      id: hubspot.addContact({ firstname: 'Dana', lastname: 'W', phone: CUSTOMER, mobilephone: null }),
    };
    await linkContacts(relay.db, onHubSpot.orgId, onHubSpot.sender, [{ phone: CUSTOMER, ref: hubspotDana }]);
    await optIn(relay.app, onHubSpot, CUSTOMER);
    const installation = withInstallationCrms(registryOf(ours));
    pluginFor = (c, secrets) => (c.id === theirConnection.id ? theirs : installation(c, secrets));
    worker = testWorker(relay.db, key, { pluginFor }).worker;
  });
  afterAll(async () => {
    await relay.close();
    await hubspot.close();
    await drop();
  });

  const ask = (who: TestOrg, reference: string | undefined = 'INV-1042') =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...who.auth, 'idempotency-key': idemKey() },
      payload: {
        from: who.sender,
        to: CUSTOMER,
        amountMinor: 12_550,
        description: 'Invoice 1042',
        reference,
      },
    });

  /** Plays the customer: opens the link, starts the checkout and pays on the sandbox page. */
  async function pay(body: string): Promise<void> {
    const token = /\/p\/([A-Za-z0-9_-]{22})\b/.exec(body)?.[1];
    expect(token).toBeDefined();
    expect((await relay.app.inject({ method: 'POST', url: `/p/${token}/opened` })).statusCode).toBe(204);
    const started = await relay.app.inject({ method: 'POST', url: `/p/${token}/pay` });
    expect(started.statusCode, started.body).toBe(303);
    const checkout = /\/sandbox\/checkout\/(cs_sandbox_[0-9a-f]+)$/.exec(
      String(started.headers.location),
    )?.[1];
    const paid = await relay.app.inject({
      method: 'POST',
      url: `/sandbox/checkout/${checkout}`,
      headers: {
        origin: 'http://127.0.0.1:8787',
        'content-type': 'application/json',
        host: '127.0.0.1:8787',
      },
      payload: JSON.stringify({ action: 'pay' }),
    });
    expect(paid.statusCode, paid.body).toBe(200);
  }

  it('writes the request on the contact when its text goes out, then the same entry says Paid', async () => {
    const asked = await ask(org);
    expect(asked.statusCode, asked.body).toBe(201);
    const { payment, message } = asked.json();
    await worker.drain();
    expect(ours.payments(DANA).filter((p) => p.requestId === payment.id)).toMatchObject([
      { status: 'sent', statusLabel: 'Link sent' },
    ]);

    await pay(message.body);
    await worker.drain();
    const entries = ours.payments(DANA).filter((p) => p.requestId === payment.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ status: 'paid', statusLabel: 'Paid', reference: 'INV-1042' });
    expect(entries[0]?.body).toContain('Paid by Visa ending 4242');
    expect(entries[0]?.body).toContain('$125.50');
    // The entry id is kept per connection and handed back on the next write (a lagging search).
    const kept = await relay.db.query(
      'SELECT entry_id, status FROM crm_payment_entries WHERE connection_id = $1 AND request_id = $2',
      [connection.id, payment.id],
    );
    expect(kept).toEqual([{ entry_id: `payment:${payment.id}`, status: 'paid' }]);

    const page = await relay.app.inject({
      method: 'GET',
      url: `/sandbox/crm/contacts/${DANA.id}`,
      headers: { host: '127.0.0.1:8787' },
    });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.body).toContain('data-payment-status="paid"');
    expect(page.body).toContain('Paid by Visa ending 4242');
  });

  it('rewrites the entry for a change it shows (the amount refunded), not for one it does not (a reminder)', async () => {
    const asked = await ask(org);
    const id: string = asked.json().payment.id;
    await worker.drain();
    const waiting = async () =>
      (
        await relay.db.query(
          `SELECT 1 FROM crm_sync_jobs WHERE kind = 'payment' AND subject = $1 AND state = 'queued'`,
          [id],
        )
      ).length;
    const change = async (fields: Parameters<typeof updatePayment>[2]['fields']) => {
      const row = await paymentById(relay.db, org.orgId, id);
      if (row === null) throw new Error('request missing');
      await relay.db.transaction((tx) => updatePayment(tx, row, { fields, at: relay.clock() }));
    };
    await change({ reminded_at: relay.clock() });
    expect(await waiting()).toBe(0);
    await change({ refunded_minor: 100 });
    expect(await waiting()).toBe(1);
  });

  it("keeps the panel's own calls on the same sandbox CRM once the org connected it", async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/contacts/escalate',
      headers: org.auth,
      payload: { ...DANA, kind: 'call', note: 'Asked about the invoice' },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(ours.followUps(DANA).some((t) => t.body.includes('Asked about the invoice'))).toBe(true);
  });

  it("writes one HubSpot note per request through the real SDK, and the named deal's payment properties", async () => {
    const dealId = hubspot.addDeal({ dealname: 'Kitchen remodel' });
    const asked = await ask(onHubSpot, `deal:${dealId}`);
    expect(asked.statusCode, asked.body).toBe(201);
    await worker.drain();
    await pay(asked.json().message.body);
    await worker.drain();
    const notes = hubspot
      .notes()
      .filter((n) => n.properties.sms_relay_payment_request_id === asked.json().payment.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.associations).toEqual([hubspotDana.id]);
    expect(notes[0]?.properties.hs_note_body).toContain('Paid by Visa ending 4242');
    expect(hubspot.deal(dealId)?.properties).toMatchObject({
      sms_payment_status: 'paid',
      sms_payment_amount: '125.5',
      sms_payment_currency: 'USD',
      sms_payment_request_id: asked.json().payment.id,
    });
  });

  it('loses nothing while the CRM is down: the write is retried and lands once', async () => {
    // A retry a minute later, made due by the test below: the test worker's 10–20 ms could come
    // due inside the same drain on a loaded machine (its payment pass claims up to ten rounds),
    // and the write would land at once.
    const patient = testWorker(relay.db, key, { pluginFor, retryBaseMs: 60_000 }).worker;
    ours.failNextPayment();
    const asked = await ask(org, undefined);
    expect(asked.statusCode, asked.body).toBe(201);
    const id: string = asked.json().payment.id;
    await patient.drain();
    expect(ours.payments(DANA).some((p) => p.requestId === id)).toBe(false);
    const [job] = await relay.db.query<{ state: string; last_error: string | null }>(
      `SELECT state, last_error FROM crm_sync_jobs WHERE kind = 'payment' AND subject = $1`,
      [id],
    );
    expect(job).toMatchObject({ state: 'queued', last_error: expect.stringContaining('unavailable') });
    // The retry's time comes (the queue's own clock decides when a job is due, so it moves it).
    await relay.db.query(
      `UPDATE crm_sync_jobs SET available_at = now() WHERE kind = 'payment' AND subject = $1`,
      [id],
    );
    await until(async () => {
      await patient.drain();
      return ours.payments(DANA).some((p) => p.requestId === id);
    });
    expect(ours.payments(DANA).filter((p) => p.requestId === id)).toHaveLength(1);
  });

  it('keeps syncing while the payment fields are not installed, and writes the request once they are', async () => {
    await ours.uninstall();
    try {
      const asked = await ask(org);
      expect(asked.statusCode, asked.body).toBe(201);
      const id: string = asked.json().payment.id;
      await worker.drain();
      const [job] = await relay.db.query<{ state: string; last_error: string | null }>(
        `SELECT state, last_error FROM crm_sync_jobs WHERE kind = 'payment' AND subject = $1`,
        [id],
      );
      expect(job).toMatchObject({ state: 'queued', last_error: expect.stringContaining('not_installed') });
      const [row] = await relay.db.query<{ status: string }>(
        'SELECT status FROM crm_connections WHERE id = $1',
        [connection.id],
      );
      expect(row?.status).toBe('active');
      await ours.install();
      await until(async () => {
        await worker.drain();
        return ours.payments(DANA).some((p) => p.requestId === id);
      });
    } finally {
      await ours.install();
    }
  });

  it("never writes another org's request to this org's CRM", async () => {
    const asked = await ask(other);
    expect(asked.statusCode, asked.body).toBe(201);
    const theirId: string = asked.json().payment.id;
    await pay(asked.json().message.body);
    await worker.drain();
    expect(theirs.payments(DANA).filter((p) => p.requestId === theirId)).toMatchObject([{ status: 'paid' }]);
    expect(ours.payments(DANA).some((p) => p.requestId === theirId)).toBe(false);

    // Even a job naming their request on our connection (a forged or misrouted row) writes nothing.
    await relay.db.query(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject) VALUES ($1, $2, 'payment', $3)`,
      [connection.id, org.orgId, theirId],
    );
    await worker.drain();
    expect(ours.payments(DANA).some((p) => p.requestId === theirId)).toBe(false);
    const [forged] = await relay.db.query<{ state: string; note: string | null }>(
      `SELECT state, note FROM crm_sync_jobs WHERE connection_id = $1 AND subject = $2`,
      [connection.id, theirId],
    );
    expect(forged).toEqual({ state: 'done', note: 'no such payment request in this organisation' });
  });
});
