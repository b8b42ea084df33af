import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import type { PaymentDto } from '../../server/payments/payment-store.ts';
import { signStripePayload } from '../../server/payments/stripe-signature.ts';
import { FakeStripe } from '../fakes/stripe-fake.ts';
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

// The relay with PAYMENT_PROVIDER=stripe, its real SDK pointed at the stateful fake: the pay
// button leads to Stripe's page, and Stripe's signed events (late, twice, out of order) move the
// request forward only, with the paid amount checked against the request.
const SECRET_KEY = 'sk_test_relay_0123456789';
const WEBHOOK_SECRET = 'whsec_relay_current';
const OLD_SECRET = 'whsec_relay_previous';
postgresSkipNote('payment links through Stripe');

describe.each(ENGINES)('on %s', (engine) => {
  let fake: FakeStripe;
  let relay: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    let clock: () => Date = () => new Date();
    fake = await new FakeStripe({
      secretKey: SECRET_KEY,
      webhookSecret: WEBHOOK_SECRET,
      clock: () => clock(),
    }).start();
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, {
      config: {
        payments: {
          provider: 'stripe',
          secretKey: SECRET_KEY,
          webhookSecrets: [WEBHOOK_SECRET, OLD_SECRET],
          apiUrl: fake.url,
        },
      },
    });
    clock = relay.clock;
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    // This file asks one customer for many payments; the guards are tested in payment-guards.test.ts.
    await setPaymentGuards(relay.db, org.orgId, MANY_LINKS);
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
    await fake.close();
  });

  async function request(amountMinor = 5000): Promise<{ id: string; token: string }> {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, amountMinor, description: 'Boiler service' },
    });
    expect(response.statusCode, response.body).toBe(201);
    const token = /\/p\/([A-Za-z0-9_-]{22})/.exec(response.json().message.body)?.[1] ?? '';
    return { id: response.json().payment.id, token };
  }

  async function pay(token: string): Promise<string> {
    const response = await relay.app.inject({
      method: 'POST',
      url: `/p/${token}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(response.statusCode, response.body).toBe(303);
    const location = String(response.headers.location);
    expect(location.startsWith(`${fake.url}/pay/cs_test_`)).toBe(true);
    return location.split('/').at(-1) ?? '';
  }

  /** Delivers a Stripe event to the relay's webhook route, signed as Stripe signs it. */
  async function deliver(event: Record<string, unknown>, secret = WEBHOOK_SECRET) {
    const body = JSON.stringify(event);
    const signature = signStripePayload(
      Buffer.from(body),
      secret,
      Math.floor(relay.clock().getTime() / 1000),
    );
    const response = await relay.app.inject({
      method: 'POST',
      url: '/webhooks/payments',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(200);
    await relay.payments?.drain();
  }

  async function payment(id: string): Promise<PaymentDto> {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/v1/payment-requests/${id}`,
      headers: org.auth,
    });
    return response.json().payment;
  }

  describe('payment links through Stripe Checkout', () => {
    it('creates one Checkout Session per attempt with our request id, and the page allows the form to lead to Stripe', async () => {
      const { id, token } = await request();
      const page = await relay.app.inject({ method: 'GET', url: `/p/${token}` });
      expect(page.headers['content-security-policy']).toContain(
        `form-action 'self' https://checkout.stripe.com ${fake.url}`,
      );
      const sessionId = await pay(token);
      const session = fake.sessions.get(sessionId);
      expect(session?.metadata).toMatchObject({ payment_request_id: id });
      expect(fake.calls.filter((c) => c.path === '/v1/checkout/sessions').at(-1)?.idempotencyKey).toBe(
        `payment-request:${id}:attempt:1`,
      );
      expect(await pay(token)).toBe(sessionId);
    });

    it('records a payment from checkout.session.completed, reading the session for the card, under a rotated-out secret too', async () => {
      const { id, token } = await request();
      const sessionId = await pay(token);
      const session = fake.complete(sessionId, { brand: 'amex', last4: '0005' });
      await deliver(fake.event('checkout.session.completed', session), OLD_SECRET);
      expect(await payment(id)).toMatchObject({
        status: 'paid',
        paid: { amountMinor: 5000, card: { brand: 'amex', last4: '0005' } },
      });
    });

    it('flags a paid amount that differs from the request for review, never accepting it silently', async () => {
      const { id, token } = await request(5000);
      const sessionId = await pay(token);
      const session = fake.complete(sessionId, undefined, { amount: 500 });
      await deliver(fake.event('checkout.session.completed', session));
      const now = await payment(id);
      expect(now.status).toBe('paid');
      expect(now.reviewReason).toMatch(/^amount_mismatch: asked 5000 usd, paid 500 usd/);
    });

    it('ends refunded whatever order the refund and the completion arrive in, and a duplicate changes nothing', async () => {
      const { id, token } = await request(8000);
      const sessionId = await pay(token);
      const session = fake.complete(sessionId);
      const intent = fake.intents.get(String(session.payment_intent));
      const charge = fake.charges.get(String(intent?.latest_charge)) as Record<string, unknown>;
      charge.amount_refunded = 8000;
      const refunded = fake.event('charge.refunded', { ...charge, metadata: {} });
      await deliver(refunded);
      await deliver(fake.event('checkout.session.completed', session));
      await deliver(refunded);
      const now = await payment(id);
      expect(now).toMatchObject({ status: 'refunded', refundedMinor: 8000 });
      const history = await relay.app.inject({
        method: 'GET',
        url: `/v1/payment-requests/${id}`,
        headers: org.auth,
      });
      expect(history.json().history.map((h: { status: string }) => h.status)).toEqual([
        'sent',
        'checkout_started',
        'paid',
        'refunded',
      ]);
    });

    it('keeps an event queued while Stripe is down, and applies it on the next pass', async () => {
      const { id, token } = await request();
      const sessionId = await pay(token);
      const session = fake.complete(sessionId);
      fake.down = true;
      const body = JSON.stringify(fake.event('checkout.session.completed', session));
      const signature = signStripePayload(
        Buffer.from(body),
        WEBHOOK_SECRET,
        Math.floor(relay.clock().getTime() / 1000),
      );
      await relay.app.inject({
        method: 'POST',
        url: '/webhooks/payments',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload: body,
      });
      await expect(relay.payments?.drain()).rejects.toThrow();
      expect((await payment(id)).status).toBe('checkout_started');
      const [queued] = await relay.db.query<{ processed_at: Date | null; last_error: string }>(
        'SELECT processed_at, last_error FROM payment_webhook_events ORDER BY received_at DESC LIMIT 1',
      );
      expect(queued).toMatchObject({
        processed_at: null,
        last_error: expect.stringContaining('unavailable'),
      });
      fake.down = false;
      await relay.payments?.drain();
      expect((await payment(id)).status).toBe('paid');
    });

    it('takes the currencies the org allows, refusing a bad setting and changing nothing', async () => {
      const by = { actor: 'cli', at: relay.clock() };
      await expect(
        relay.db.transaction((tx) => setOrgSetting(tx, org.orgId, 'payments.currencies', 'usd,euro', by)),
      ).rejects.toMatchObject({ code: 'INVALID_SETTING' });
      await relay.db.transaction((tx) => setOrgSetting(tx, org.orgId, 'payments.currencies', 'usd,EUR', by));
      const response = await relay.app.inject({
        method: 'POST',
        url: '/v1/payment-requests',
        headers: { ...org.auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to: CUSTOMER, amountMinor: 4000, currency: 'eur', description: 'Parts' },
      });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json().message.body).toContain('€40.00');
    });
  });
});
