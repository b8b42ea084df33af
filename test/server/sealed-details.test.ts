import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resealDue, rotateDataKeys } from '../../server/crypto/reseal.ts';
import { VaultError } from '../../server/crypto/vault.ts';
import { migrate } from '../../server/db/migrate.ts';
import { positionAt } from '../../server/live/event-position.ts';
import { EventHub } from '../../server/live/events.ts';
import { openPaymentDetails } from '../../server/payments/payment-details.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { MANY_LINKS, setPaymentGuards } from '../helpers/payments.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { databaseDump, storedEventPayloads } from '../helpers/stored-texts.ts';

// Encryption at rest, continued (issue #18, item 1): what a rep writes about a customer outside a
// text (a pending double opt-in's evidence, a payment request's description and reference) is
// sealed like the texts, read back as written, and re-sealed when the keys rotate.
postgresSkipNote('sealed opt-in evidence and payment details');

describe.each(ENGINES)('sealed opt-in evidence and payment details on %s', (engine) => {
  let relay: TestRelay;
  let drop: () => Promise<void>;
  let org: TestOrg;
  const time = steerableDaytimeClock();
  const CUSTOMERS = ['+12025557301', '+12025557304', '+12025557305'];
  const ASKED = '+12025557302';

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock });
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
    await setPaymentGuards(relay.db, org.orgId, MANY_LINKS);
    for (const customer of CUSTOMERS) await optIn(relay.app, org, customer);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    relay.app.inject({ method, url, headers: { ...org.auth, 'idempotency-key': idemKey() }, payload });

  /** The request's id; its link's token is kept in `tokens` (the text carries it). */
  const tokens = new Map<string, string>();
  async function askPayment(description: string, reference: string | null, to = 0): Promise<string> {
    const asked = await call('POST', '/v1/payment-requests', {
      from: org.sender,
      to: CUSTOMERS[to],
      amountMinor: 18_000,
      description,
      ...(reference === null ? {} : { reference }),
    });
    expect(asked.statusCode, asked.body).toBe(201);
    expect(asked.json().payment).toMatchObject({ description, reference });
    const token = /\/p\/([A-Za-z0-9_-]{22})\b/.exec(asked.json().message.body as string)?.[1];
    tokens.set(asked.json().payment.id as string, token ?? '');
    return asked.json().payment.id as string;
  }

  async function requestOptIn(phone: string, evidence: string): Promise<void> {
    await relay.db.query('UPDATE orgs SET settings = $2 WHERE id = $1', [
      org.orgId,
      JSON.stringify({ doubleOptIn: true }),
    ]);
    try {
      const asked = await call('POST', '/v1/consent', { phone, kind: 'opt_in', source: 'verbal', evidence });
      expect(asked.statusCode, asked.body).toBe(202);
    } finally {
      await relay.db.query(`UPDATE orgs SET settings = '{}' WHERE id = $1`, [org.orgId]);
    }
  }

  it('a dump holds neither, while the API, the live events, the payment page and the ledger show them', async () => {
    await requestOptIn(ASKED, 'Asked at the desk about her Narwhal scan results');
    const id = await askPayment('Capybara crown, second visit', 'ACCT-Ocelot-77');

    const everything = await databaseDump(relay.db);
    for (const secret of ['Narwhal', 'Capybara', 'Ocelot']) expect(everything).not.toContain(secret);

    const read = await call('GET', `/v1/payment-requests/${id}`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().payment).toMatchObject({
      description: 'Capybara crown, second visit',
      reference: 'ACCT-Ocelot-77',
    });
    const listed = await call('GET', '/v1/payment-requests');
    expect(listed.json().payments.map((p: { description: string }) => p.description)).toContain(
      'Capybara crown, second visit',
    );
    const page = await relay.app.inject({ method: 'GET', url: `/p/${tokens.get(id)}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Capybara crown, second visit');
    expect(page.body).toContain('ACCT-Ocelot-77');

    const cancelled = await call('POST', `/v1/payment-requests/${id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    const events = (await storedEventPayloads(relay.db)) as { payment?: Record<string, unknown> }[];
    const updated = events.filter((e) => e.payment?.id === id).at(-1)?.payment;
    expect(updated).toMatchObject({ description: 'Capybara crown, second visit', status: 'canceled' });
    expect(updated).not.toHaveProperty('detailsKey');
    expect(await databaseDump(relay.db)).not.toContain('Capybara');

    await relay.sandbox.textFromHandset({ handset: ASKED, service: org.sender, text: 'YES' });
    const ledger = await call('GET', `/v1/consent/${encodeURIComponent(ASKED)}`);
    expect(ledger.json()).toMatchObject({ status: 'opted_in' });
    expect(ledger.json().events[0].evidence).toContain('Asked at the desk about her Narwhal scan results');
    expect(await databaseDump(relay.db)).not.toContain('Narwhal');
  });

  it('a sealed description copied onto another request does not open there', async () => {
    const a = await askPayment('Molar check', null, 1);
    const b = await askPayment('Whitening', null, 1);
    const [row] = await relay.db.query<{ description: string; details_key: number }>(
      'SELECT description, details_key FROM payment_requests WHERE id = $1',
      [a],
    );
    const stored = { description: row?.description ?? '', reference: null };
    expect((await openPaymentDetails(relay.db, org.orgId, a, stored, row?.details_key)).description).toBe(
      'Molar check',
    );
    await expect(openPaymentDetails(relay.db, org.orgId, b, stored, row?.details_key)).rejects.toThrow(
      VaultError,
    );
  });

  it('rotation re-seals them under the new key, and seals what was written in clear before', async () => {
    const id = await askPayment('Bridge fitting', 'INV-2207', 2);
    await requestOptIn('+12025557303', 'Signed the consent card at reception');
    // Written before sealing: in clear, with no key.
    const legacy = await askPayment('Legacy cleaning', 'OLD-1', 2);
    await relay.db.query(
      `UPDATE payment_requests SET description = 'Legacy cleaning', reference = 'OLD-1', details_key = NULL WHERE id = $1`,
      [legacy],
    );
    const [rotated] = await rotateDataKeys(relay.db, [org.orgId]);
    const [report] = (await resealDue(relay.db, { settleMs: 0 })).filter((r) => r.orgId === org.orgId);
    expect(report?.details).toBeGreaterThanOrEqual(3);

    const stale = await relay.db.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM payment_requests WHERE org_id = $1 AND details_key IS DISTINCT FROM $2)
            + (SELECT count(*)::int FROM consent_requests WHERE org_id = $1 AND evidence_key IS DISTINCT FROM $2)
            + (SELECT count(*)::int FROM events WHERE org_id = $1 AND payload ? 'payment'
                 AND (payload #>> '{payment,detailsKey}')::int IS DISTINCT FROM $2) AS n`,
      [org.orgId, rotated?.keyNo],
    );
    expect(stale[0]?.n).toBe(0);
    expect(report?.destroyed.length).toBeGreaterThan(0);
    for (const [request, description, reference] of [
      [id, 'Bridge fitting', 'INV-2207'],
      [legacy, 'Legacy cleaning', 'OLD-1'],
    ]) {
      const read = await call('GET', `/v1/payment-requests/${request}`);
      expect(read.json().payment).toMatchObject({ description, reference });
    }
    expect(await databaseDump(relay.db)).not.toContain('Legacy cleaning');
    const pending = await call('GET', `/v1/consent/${encodeURIComponent('+12025557303')}`);
    expect(pending.json().pendingOptIn).toMatchObject({ source: 'verbal' });
  });
  it('details written in clear before 045 are sealed by the first pass after upgrade, with no rotation', async () => {
    const legacy = await askPayment('Old crown fitting', 'OLD-2', 1);
    await relay.db.query(
      `UPDATE payment_requests SET description = 'Old crown fitting', reference = 'OLD-2', details_key = NULL WHERE id = $1`,
      [legacy],
    );
    // A database that ran 043's first pass: every active key is already marked resealed.
    await relay.db.query(`UPDATE org_data_keys SET resealed_at = $1 WHERE state = 'active'`, [time.clock()]);
    await resealDue(relay.db, { settleMs: 0 });
    expect(await databaseDump(relay.db)).toContain('Old crown fitting');
    await relay.db.query(`DELETE FROM schema_migrations WHERE version = '047_seal_details_pass'`);
    expect((await migrate(relay.db)).applied).toEqual(['047_seal_details_pass']);
    await resealDue(relay.db, { settleMs: 0 });
    expect(await databaseDump(relay.db)).not.toContain('Old crown fitting');
    const read = await call('GET', `/v1/payment-requests/${legacy}`);
    expect(read.json().payment).toMatchObject({ description: 'Old crown fitting', reference: 'OLD-2' });
  });
  it('a payment event whose details no longer open shows no sealed text, and the stream goes on', async () => {
    await relay.db.query(
      `INSERT INTO events (org_id, type, payload)
       VALUES ($1, 'payment.updated', jsonb_build_object('payment', jsonb_build_object(
         'id', gen_random_uuid()::text, 'status', 'sent', 'description', 'v1:gone', 'reference', 'v1:gone',
         'detailsKey', 999)))`,
      [org.orgId],
    );
    const events = await new EventHub(relay.db).backlog(
      org.orgId,
      positionAt({ txId: 0, id: 0 }),
      positionAt({ txId: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER }),
      1000,
    );
    const payload = events.at(-1)?.payload as Record<string, unknown> | undefined;
    expect(payload).toEqual({ payment: expect.objectContaining({ description: '', reference: null }) });
    expect(JSON.stringify(payload)).not.toMatch(/v1:gone|detailsKey/);
  });
});
