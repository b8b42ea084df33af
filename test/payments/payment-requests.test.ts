import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentDto } from '../../server/payments/payment-store.ts';
import { signStripePayload } from '../../server/payments/stripe-signature.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { MANY_LINKS, setPaymentGuards } from '../helpers/payments.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// The sandbox payment provider, end to end through the relay's routes: the rep asks, the customer
// opens the link, pays on the sandbox checkout, and the request moves forward from signed events.
postgresSkipNote('payment requests');

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  /** The relay's clock, moved forward by tests that need a link to lapse. */
  const time = steerableDaytimeClock();
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, {
      clock: time.clock,
    });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    // This file asks one customer for many payments; the guards are tested in payment-guards.test.ts.
    await setPaymentGuards(relay.db, org.orgId, MANY_LINKS);
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const ask = (payload: Record<string, unknown>, auth = org.auth, key = idemKey()) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...auth, 'idempotency-key': key },
      payload: {
        from: org.sender,
        to: CUSTOMER,
        amountMinor: 12_550,
        description: 'Invoice 1042',
        ...payload,
      },
    });

  const tokenOf = (body: string): string => {
    const match = /\/p\/([A-Za-z0-9_-]{22})\b/.exec(body);
    if (match === null) throw new Error(`no link in ${body}`);
    return match[1] as string;
  };

  const sandboxPost = (url: string, payload: unknown) =>
    relay.app.inject({
      method: 'POST',
      url,
      headers: {
        origin: 'http://127.0.0.1:8787',
        'content-type': 'application/json',
        host: '127.0.0.1:8787',
      },
      payload: JSON.stringify(payload),
    });

  async function payment(id: string): Promise<PaymentDto> {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/v1/payment-requests/${id}`,
      headers: org.auth,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().payment;
  }

  describe('a payment request from request to paid', () => {
    let id: string;
    let token: string;

    it('texts our own link with the business, amount, expiry and the no-card-numbers promise', async () => {
      const response = await ask({ reference: 'INV-1042' });
      expect(response.statusCode, response.body).toBe(201);
      const { payment: created, message } = response.json();
      id = created.id;
      expect(created).toMatchObject({
        status: 'sent',
        amountMinor: 12_550,
        currency: 'usd',
        amountText: '$125.50',
        reference: 'INV-1042',
      });
      expect(created.messageId).toBe(message.id);
      expect(message.body).toContain(
        'Acme Plumbing: Payment request for $125.50, Invoice 1042 (ref INV-1042).',
      );
      expect(message.body).toContain(`Pay securely: ${relay.config.publicUrl}/p/`);
      expect(message.body).toContain('We never ask for card numbers by text.');
      token = tokenOf(message.body);
      const stored = await relay.db.query<{ token_hash: string }>(
        'SELECT token_hash FROM payment_requests WHERE id = $1',
        [id],
      );
      expect(stored[0]?.token_hash).not.toContain(token);
    });

    it('answers a retry under the same key with the same request and text, and refuses the key for another amount', async () => {
      const key = idemKey();
      const first = await ask({}, org.auth, key);
      const again = await ask({}, org.auth, key);
      expect(again.statusCode, again.body).toBe(201);
      expect(again.json().payment.id).toBe(first.json().payment.id);
      expect(again.json().message.id).toBe(first.json().message.id);
      const reused = await ask({ amountMinor: 1 }, org.auth, key);
      expect(reused.statusCode).toBe(409);
      expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('shows the page without creating anything, so a link-preview bot triggers nothing', async () => {
      const page = await relay.app.inject({ method: 'GET', url: `/p/${token}` });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Acme Plumbing');
      expect(page.body).toContain('$125.50');
      expect(page.body).toContain('INV-1042');
      expect(page.body).toContain('We never ask for card numbers by text.');
      expect(page.headers['cache-control']).toBe('no-store');
      const checkouts = await relay.db.query('SELECT 1 FROM sandbox_checkouts');
      expect(checkouts).toEqual([]);
      expect((await payment(id)).status).toBe('sent');
    });

    it('is opened when a browser runs the page’s script, then Pay redirects to one checkout, reused on a second click', async () => {
      expect((await relay.app.inject({ method: 'POST', url: `/p/${token}/opened` })).statusCode).toBe(204);
      expect((await payment(id)).status).toBe('opened');
      const pay = await relay.app.inject({
        method: 'POST',
        url: `/p/${token}/pay`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
      expect(pay.statusCode, pay.body).toBe(303);
      expect(pay.headers.location).toMatch(/\/sandbox\/checkout\/cs_sandbox_[0-9a-f]{24}$/);
      const again = await relay.app.inject({
        method: 'POST',
        url: `/p/${token}/pay`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
      expect(again.headers.location).toBe(pay.headers.location);
      expect((await payment(id)).status).toBe('checkout_started');
    });

    it('records the payment from the signed event with only the card brand and last 4, and announces it', async () => {
      const [checkout] = await relay.db.query<{ id: string }>(
        'SELECT id FROM sandbox_checkouts WHERE request_id = $1',
        [id],
      );
      const paid = await sandboxPost(`/sandbox/checkout/${checkout?.id}`, { action: 'pay' });
      expect(paid.statusCode, paid.body).toBe(200);
      expect(paid.json().redirect).toBe(`${relay.config.publicUrl}/p/${token}/done`);
      const now = await payment(id);
      expect(now).toMatchObject({
        status: 'paid',
        paid: { amountMinor: 12_550, currency: 'usd', card: { brand: 'visa', last4: '4242' } },
        reviewReason: null,
      });
      const events = await relay.db.query<{ payload: { payment: PaymentDto } }>(
        `SELECT payload FROM events WHERE type = 'payment.updated' AND org_id = $1 ORDER BY id`,
        [org.orgId],
      );
      expect(events.map((e) => e.payload.payment.status)).toContain('paid');
      const history = await relay.app.inject({
        method: 'GET',
        url: `/v1/payment-requests/${id}`,
        headers: org.auth,
      });
      expect(history.json().history.map((h: { status: string }) => h.status)).toEqual([
        'sent',
        'opened',
        'checkout_started',
        'paid',
      ]);
      const done = await relay.app.inject({ method: 'GET', url: `/p/${token}/done` });
      expect(done.body).toContain('data-state="paid"');
    });

    it('records a duplicate delivery once and a forged or stale one not at all', async () => {
      const body = JSON.stringify({
        id: 'evt_dup_1',
        object: 'event',
        created: 1,
        type: 'checkout.session.expired',
        data: { object: { id: 'cs_none', metadata: {} } },
      });
      const secret =
        (
          await relay.db.query<{ value: string }>(
            `SELECT value FROM instance_secrets WHERE name = 'sandbox_payments_webhook_secret'`,
          )
        )[0]?.value ?? '';
      const t = Math.floor(relay.clock().getTime() / 1000);
      const post = (signature: string) =>
        relay.app.inject({
          method: 'POST',
          url: '/webhooks/payments',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          payload: body,
        });
      expect((await post(signStripePayload(Buffer.from(body), secret, t))).json()).toEqual({
        received: true,
        duplicate: false,
      });
      expect((await post(signStripePayload(Buffer.from(body), secret, t))).json()).toEqual({
        received: true,
        duplicate: true,
      });
      const forged = await post(signStripePayload(Buffer.from(body), 'whsec_attacker', t));
      expect(forged.statusCode).toBe(403);
      expect(forged.json().error).toMatchObject({
        code: 'INVALID_SIGNATURE',
        details: { reason: 'BAD_SIGNATURE' },
      });
      const stale = await post(signStripePayload(Buffer.from(body), secret, t - 3600));
      expect(stale.json().error.details.reason).toBe('STALE_SIGNATURE');
    });
  });

  describe('the send rules and the org’s rules apply', () => {
    it('refuses an opted-out customer as any text, and keeps no request', async () => {
      const stopped = '+12025550188';
      await optIn(relay.app, org, stopped);
      await relay.sandbox.textFromHandset({ handset: stopped, service: org.sender, text: 'STOP' });
      const before = await relay.db.query('SELECT count(*)::int AS n FROM payment_requests');
      const response = await ask({ to: stopped });
      expect(response.statusCode).toBe(422);
      expect(response.json().error.code).toBe('OPTED_OUT');
      expect(await relay.db.query('SELECT count(*)::int AS n FROM payment_requests')).toEqual(before);
    });

    it('refuses a currency the org does not take and an amount over its limit, changing nothing', async () => {
      const eur = await ask({ currency: 'EUR' });
      expect(eur.statusCode).toBe(422);
      expect(eur.json().error).toMatchObject({ code: 'CURRENCY_NOT_ALLOWED', details: { allowed: ['usd'] } });
      const big = await ask({ amountMinor: 10_000_01 });
      expect(big.json().error.code).toBe('AMOUNT_TOO_LARGE');
      const days = await ask({ expiresInDays: 31 });
      expect(days.statusCode).toBe(400);
    });

    it('hides a request from another org (404) and refuses a role without payments.create (403)', async () => {
      const created = await ask({});
      const id = created.json().payment.id;
      const theirs = await relay.app.inject({
        method: 'GET',
        url: `/v1/payment-requests/${id}`,
        headers: other.auth,
      });
      expect(theirs.statusCode).toBe(404);
      const cancel = await relay.app.inject({
        method: 'POST',
        url: `/v1/payment-requests/${id}/cancel`,
        headers: other.auth,
      });
      expect(cancel.statusCode).toBe(404);
      const auditor = await signedInUser(relay.app, relay.db, {
        orgId: org.orgId,
        email: 'aud@acme.test',
        role: 'auditor',
        now: relay.clock(),
      });
      const refused = await ask({}, auditor.auth);
      expect(refused.statusCode).toBe(403);
    });

    it('lets another rep see but not cancel a rep’s request; its sender cancels it and the link stops', async () => {
      const rep = await signedInUser(relay.app, relay.db, {
        orgId: org.orgId,
        email: 'rep1@acme.test',
        role: 'rep',
        now: relay.clock(),
      });
      const rep2 = await signedInUser(relay.app, relay.db, {
        orgId: org.orgId,
        email: 'rep2@acme.test',
        role: 'rep',
        now: relay.clock(),
      });
      const created = await ask({}, rep.auth);
      expect(created.statusCode, created.body).toBe(201);
      const { id } = created.json().payment;
      const token = tokenOf(created.json().message.body);
      const notTheirs = await relay.app.inject({
        method: 'POST',
        url: `/v1/payment-requests/${id}/cancel`,
        headers: rep2.auth,
      });
      expect([403, 404]).toContain(notTheirs.statusCode);
      const cancelled = await relay.app.inject({
        method: 'POST',
        url: `/v1/payment-requests/${id}/cancel`,
        headers: rep.auth,
      });
      expect(cancelled.json().payment.status).toBe('canceled');
      const pay = await relay.app.inject({
        method: 'POST',
        url: `/p/${token}/pay`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
      expect(pay.statusCode).toBe(200);
      expect(pay.body).toContain('data-state="closed"');
      const twice = await relay.app.inject({
        method: 'POST',
        url: `/v1/payment-requests/${id}/cancel`,
        headers: rep.auth,
      });
      expect(twice.json().error.code).toBe('PAYMENT_NOT_OPEN');
    });

    it('sends one reminder, and refuses a second', async () => {
      const created = await ask({});
      const { id } = created.json().payment;
      const first = await relay.app.inject({
        method: 'POST',
        url: `/v1/payment-requests/${id}/remind`,
        headers: org.auth,
      });
      expect(first.statusCode, first.body).toBe(201);
      expect(first.json().message.body).toContain('Reminder: your payment request for $125.50');
      const second = await relay.app.inject({
        method: 'POST',
        url: `/v1/payment-requests/${id}/remind`,
        headers: org.auth,
      });
      expect(second.json().error.code).toBe('REMINDER_ALREADY_SENT');
    });

    it('expires a link that lapsed unpaid, by the relay’s clock', async () => {
      const created = await ask({ expiresInDays: 1 });
      const { id } = created.json().payment;
      time.advance(2 * 86_400_000);
      await relay.payments?.drain();
      expect((await payment(id)).status).toBe('expired');
    });

    it('answers a malformed or unknown link with the not-valid page', async () => {
      for (const url of ['/p/short', '/p/AAAAAAAAAAAAAAAAAAAAAA']) {
        const response = await relay.app.inject({ method: 'GET', url });
        expect(response.statusCode).toBe(404);
        expect(response.body).toContain('This payment link is not valid');
      }
    });
  });
});
