import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentProviderError, WebhookRejected } from '../../server/payments/payment-provider.ts';
import { STRIPE_API_VERSION, StripePayments } from '../../server/payments/stripe.ts';
import { signStripePayload, verifyStripeSignature } from '../../server/payments/stripe-signature.ts';
import { FakeStripe } from '../fakes/stripe-fake.ts';

// The real `stripe` SDK against the local fake (sdk-contracts.md §5); nothing here reaches Stripe.
const SECRET_KEY = 'sk_test_fake_0123456789';
const WEBHOOK_SECRET = 'whsec_fake_current';
let fake: FakeStripe;
let stripe: StripePayments;

beforeAll(async () => {
  fake = await new FakeStripe({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET }).start();
  stripe = new StripePayments({
    secretKey: SECRET_KEY,
    webhookSecrets: [WEBHOOK_SECRET],
    apiUrl: fake.url,
    timeoutMs: 5000,
  });
});
afterAll(async () => fake.close());

const input = (over: Partial<Parameters<StripePayments['createCheckout']>[0]> = {}) => ({
  requestId: '7d0c6b4e-1b55-4f43-9a55-1c1a4f1b2c3d',
  orgId: '0a0b0c0d-0000-4000-8000-000000000001',
  amountMinor: 12_550,
  currency: 'usd',
  description: 'Invoice 1042',
  reference: 'INV-1042',
  businessName: 'Acme Plumbing',
  successUrl: 'https://relay.example/p/tok/done',
  cancelUrl: 'https://relay.example/p/tok',
  expiresAt: new Date(Date.now() + 3_600_000),
  idempotencyKey: `attempt-${Math.random()}`,
  ...over,
});

describe('StripePayments against the fake, through the real SDK', () => {
  it('creates a Checkout Session with the pinned API version, an idempotency key and our request id', async () => {
    const request = input();
    const checkout = await stripe.createCheckout(request);
    expect(checkout).toMatchObject({
      status: 'open',
      paymentStatus: 'unpaid',
      amountTotal: 12_550,
      currency: 'usd',
    });
    expect(checkout.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pay\/cs_test_/);
    expect(checkout.requestId).toBe(request.requestId);
    const call = fake.calls.at(-1);
    expect(call).toMatchObject({
      method: 'POST',
      path: '/v1/checkout/sessions',
      idempotencyKey: request.idempotencyKey,
      version: STRIPE_API_VERSION,
    });
    expect(call?.form).toMatchObject({
      mode: 'payment',
      line_items: [
        {
          quantity: '1',
          price_data: { currency: 'usd', unit_amount: '12550', product_data: { name: 'Invoice 1042' } },
        },
      ],
      metadata: { payment_request_id: request.requestId },
      payment_intent_data: { description: 'Invoice 1042 (INV-1042)' },
    });
  });

  it('answers a retried create (same key, same request) with the same session, and refuses the key with other parameters', async () => {
    const request = input();
    const first = await stripe.createCheckout(request);
    const again = await stripe.createCheckout(request);
    expect(again.id).toBe(first.id);
    const reused = await stripe.createCheckout({ ...request, amountMinor: 1 }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(PaymentProviderError);
    expect(reused).toMatchObject({ code: 'idempotency_error', retryable: false });
  });

  it('reads a paid session with the payment id and only the card brand and last 4', async () => {
    const checkout = await stripe.createCheckout(input());
    fake.complete(checkout.id, { brand: 'mastercard', last4: '4444' });
    const paid = await stripe.getCheckout(checkout.id);
    expect(paid).toMatchObject({
      status: 'complete',
      paymentStatus: 'paid',
      card: { brand: 'mastercard', last4: '4444' },
    });
    expect(paid.paymentId).toMatch(/^pi_/);
    expect(Object.keys(paid.card ?? {}).sort()).toEqual(['brand', 'last4']);
  });

  it('expires an open session, and returns a completed one unchanged', async () => {
    const open = await stripe.createCheckout(input());
    expect(await stripe.expireCheckout(open.id)).toMatchObject({ status: 'expired', url: null });
    const paid = await stripe.createCheckout(input());
    fake.complete(paid.id);
    expect(await stripe.expireCheckout(paid.id)).toMatchObject({ status: 'complete' });
  });

  it('refunds part then the rest, and refuses more than is left', async () => {
    const checkout = await stripe.createCheckout(input({ amountMinor: 1000 }));
    fake.complete(checkout.id);
    const { paymentId } = await stripe.getCheckout(checkout.id);
    expect(await stripe.refund(paymentId ?? '', 400, 'refund-1')).toMatchObject({
      amountMinor: 400,
      status: 'succeeded',
    });
    expect(await stripe.refund(paymentId ?? '', null, 'refund-2')).toMatchObject({ amountMinor: 600 });
    await expect(stripe.refund(paymentId ?? '', 1, 'refund-3')).rejects.toMatchObject({
      code: 'amount_too_large',
    });
  });

  it('marks outages retryable and refusals not', async () => {
    fake.failNext(500);
    await expect(stripe.createCheckout(input())).rejects.toMatchObject({ retryable: true });
    fake.failNext(429, 'rate_limit_error', 'Too many requests');
    await expect(stripe.createCheckout(input())).rejects.toMatchObject({ retryable: true });
    await expect(
      stripe.createCheckout(input({ expiresAt: new Date(Date.now() + 60_000) })),
    ).rejects.toMatchObject({
      retryable: false,
    });
    const wrongKey = new StripePayments({
      secretKey: 'sk_test_other',
      webhookSecrets: [],
      apiUrl: fake.url,
      timeoutMs: 5000,
    });
    await expect(wrongKey.getCheckout('cs_test_x')).rejects.toMatchObject({ retryable: false });
  });
});

describe('Stripe-Signature', () => {
  const body = Buffer.from(
    JSON.stringify({
      id: 'evt_1',
      object: 'event',
      type: 'checkout.session.expired',
      created: 1,
      data: { object: { id: 'cs_1', metadata: {} } },
    }),
  );
  const now = new Date();
  const t = Math.floor(now.getTime() / 1000);

  it("agrees with the SDK's own signer and verifier both ways", () => {
    const sdk = new Stripe('sk_test_x');
    const sdkHeader = sdk.webhooks.generateTestHeaderString({
      payload: body.toString(),
      secret: WEBHOOK_SECRET,
      timestamp: t,
    });
    expect(() => verifyStripeSignature(body, sdkHeader, [WEBHOOK_SECRET], now)).not.toThrow();
    const ours = signStripePayload(body, WEBHOOK_SECRET, t);
    expect(sdk.webhooks.constructEvent(body, ours, WEBHOOK_SECRET).id).toBe('evt_1');
  });

  it('accepts any of several secrets during a rotation, and ignores unknown schemes', () => {
    const header = `${signStripePayload(body, 'whsec_old', t)},v0=abc,x9=1`;
    expect(() => verifyStripeSignature(body, header, [WEBHOOK_SECRET, 'whsec_old'], now)).not.toThrow();
  });

  const refused: [string, string | undefined, string, Buffer?, Date?][] = [
    ['no header', undefined, 'MISSING_SIGNATURE'],
    ['no v1', `t=${t}`, 'MALFORMED_SIGNATURE'],
    ['another secret', signStripePayload(body, 'whsec_attacker', t), 'BAD_SIGNATURE'],
    [
      'a changed body',
      signStripePayload(body, WEBHOOK_SECRET, t),
      'BAD_SIGNATURE',
      Buffer.from(`${body.toString()} `),
    ],
    ['a replay after 301 s', signStripePayload(body, WEBHOOK_SECRET, t - 301), 'STALE_SIGNATURE'],
    ['a timestamp 301 s ahead', signStripePayload(body, WEBHOOK_SECRET, t + 301), 'STALE_SIGNATURE'],
  ];
  it.each(refused)('refuses %s', (_name, header, code, changed) => {
    const error = (() => {
      try {
        verifyStripeSignature(changed ?? body, header, [WEBHOOK_SECRET], now);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(WebhookRejected);
    expect((error as WebhookRejected).code).toBe(code);
  });

  it('reads a verified event into a normalised one, and refuses a signed body that is not an event', () => {
    const event = fake.event('checkout.session.completed', {
      id: 'cs_9',
      payment_intent: 'pi_9',
      metadata: { payment_request_id: 'r1' },
    });
    const raw = Buffer.from(JSON.stringify(event));
    const parsed = stripe.parseWebhook(
      raw,
      { 'stripe-signature': signStripePayload(raw, WEBHOOK_SECRET, t) },
      now,
    );
    expect(parsed).toMatchObject({
      kind: 'checkout_completed',
      checkoutId: 'cs_9',
      paymentId: 'pi_9',
      requestId: 'r1',
    });
    const junk = Buffer.from('{"hello":1}');
    expect(() =>
      stripe.parseWebhook(junk, { 'stripe-signature': signStripePayload(junk, WEBHOOK_SECRET, t) }, now),
    ).toThrow(expect.objectContaining({ code: 'MALFORMED_EVENT' }));
  });
});
