import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Queryable } from '../db/database.ts';
import {
  type Checkout,
  type CheckoutInput,
  type PaymentEvent,
  type PaymentProvider,
  PaymentProviderError,
  type Refund,
} from './payment-provider.ts';
import { verifiedStripeEvent } from './stripe-events.ts';
import { signStripePayload } from './stripe-signature.ts';

/** Where the sandbox's hosted checkout page lives on the relay. */
export const SANDBOX_CHECKOUT_PATH = '/sandbox/checkout';
/** Where the sandbox (like Stripe) posts its signed events. */
export const PAYMENT_WEBHOOK_PATH = '/webhooks/payments';

export interface SandboxCheckoutRow {
  id: string;
  idempotency_key: string;
  request_id: string;
  org_id: string;
  amount_minor: string | number;
  currency: string;
  description: string;
  business_name: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'paid' | 'unpaid';
  payment_id: string | null;
  amount_refunded: string | number;
  success_url: string;
  cancel_url: string;
  expires_at: Date;
  created_at: Date;
}

type Deliver = (request: { path: string; headers: Record<string, string>; body: string }) => Promise<number>;

const id = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * The payment provider of `npm start`: checkouts kept in the database, a hosted page on the relay
 * (/sandbox/checkout/<id>) where a newcomer plays the customer (pay, decline, let it expire), and
 * events signed and posted to the same webhook route, in Stripe's own shapes, that Stripe uses.
 */
export class SandboxPayments implements PaymentProvider {
  readonly name = 'sandbox' as const;
  private deliver: Deliver | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly publicUrl: string,
    private readonly webhookSecret: string,
    private readonly clock: Clock,
  ) {}

  /** How events reach the relay (app.inject in-process, as the sandbox SMS network does). */
  connect(deliver: Deliver): void {
    this.deliver = deliver;
  }

  async createCheckout(input: CheckoutInput): Promise<Checkout> {
    const checkoutId = id('cs_sandbox');
    await this.db.query(
      `INSERT INTO sandbox_checkouts (id, idempotency_key, request_id, org_id, amount_minor, currency, description,
         business_name, status, payment_status, success_url, cancel_url, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 'unpaid', $9, $10, $11, $12)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        checkoutId,
        input.idempotencyKey,
        input.requestId,
        input.orgId,
        input.amountMinor,
        input.currency,
        input.description,
        input.businessName,
        input.successUrl,
        input.cancelUrl,
        input.expiresAt,
        this.clock(),
      ],
    );
    const [row] = await this.db.query<SandboxCheckoutRow>(
      'SELECT * FROM sandbox_checkouts WHERE idempotency_key = $1',
      [input.idempotencyKey],
    );
    return this.toCheckout(row);
  }

  async getCheckout(checkoutId: string): Promise<Checkout> {
    return this.toCheckout(await this.row(checkoutId));
  }

  async row(checkoutId: string): Promise<SandboxCheckoutRow | undefined> {
    const rows = await this.db.query<SandboxCheckoutRow>('SELECT * FROM sandbox_checkouts WHERE id = $1', [
      checkoutId,
    ]);
    return rows[0];
  }

  async expireCheckout(checkoutId: string): Promise<Checkout> {
    await this.db.query(`UPDATE sandbox_checkouts SET status = 'expired' WHERE id = $1 AND status = 'open'`, [
      checkoutId,
    ]);
    return this.getCheckout(checkoutId);
  }

  async refund(paymentId: string, amountMinor: number | null, idempotencyKey: string): Promise<Refund> {
    // Like Stripe, a retried key answers with the refund it made, and refunds nothing again.
    const [earlier] = await this.db.query<{ refund: Refund }>(
      'SELECT refund FROM sandbox_refunds WHERE idempotency_key = $1',
      [idempotencyKey],
    );
    if (earlier !== undefined) return earlier.refund;
    const [row] = await this.db.query<SandboxCheckoutRow>(
      'SELECT * FROM sandbox_checkouts WHERE payment_id = $1',
      [paymentId],
    );
    if (row === undefined)
      throw new PaymentProviderError(false, 'resource_missing', `No such payment: ${paymentId}`);
    const left = Number(row.amount_minor) - Number(row.amount_refunded);
    const amount = amountMinor ?? left;
    if (amount < 1 || amount > left)
      throw new PaymentProviderError(false, 'amount_too_large', `At most ${left} is left to refund.`);
    await this.db.query('UPDATE sandbox_checkouts SET amount_refunded = amount_refunded + $2 WHERE id = $1', [
      row.id,
      amount,
    ]);
    const refunded = Number(row.amount_refunded) + amount;
    await this.send('charge.refunded', {
      id: id('ch_sandbox'),
      object: 'charge',
      amount: Number(row.amount_minor),
      amount_refunded: refunded,
      payment_intent: paymentId,
      metadata: { payment_request_id: row.request_id },
    });
    const refund: Refund = { id: id('re_sandbox'), status: 'succeeded', amountMinor: amount };
    await this.db.query(
      'INSERT INTO sandbox_refunds (idempotency_key, refund) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [idempotencyKey, JSON.stringify(refund)],
    );
    return refund;
  }

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    now: Date,
  ): PaymentEvent {
    return verifiedStripeEvent(rawBody, headers, [this.webhookSecret], now);
  }

  /** The customer on the sandbox page: pays, is declined (and may try again), or lets it lapse. */
  async act(
    checkoutId: string,
    action: 'pay' | 'decline' | 'expire',
  ): Promise<SandboxCheckoutRow | undefined> {
    const row = await this.row(checkoutId);
    if (row === undefined || row.status !== 'open') return row;
    if (action === 'expire') {
      await this.expireCheckout(checkoutId);
      await this.send('checkout.session.expired', this.sessionObject({ ...row, status: 'expired' }));
      return this.row(checkoutId);
    }
    if (action === 'decline') {
      // As on Stripe's Checkout, a declined card leaves the checkout open for another try, and the
      // provider reports the failed attempt (what the card-testing guard counts).
      await this.send('payment_intent.payment_failed', {
        id: id('pi_sandbox'),
        object: 'payment_intent',
        status: 'requires_payment_method',
        last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' },
        metadata: { payment_request_id: row.request_id, org_id: row.org_id },
      });
      return row;
    }
    await this.db.query(
      `UPDATE sandbox_checkouts SET status = 'complete', payment_status = 'paid', payment_id = $2 WHERE id = $1`,
      [checkoutId, id('pi_sandbox')],
    );
    const done = (await this.row(checkoutId)) as SandboxCheckoutRow;
    await this.send('checkout.session.completed', this.sessionObject(done));
    return done;
  }

  private sessionObject(row: SandboxCheckoutRow): Record<string, unknown> {
    return {
      id: row.id,
      object: 'checkout.session',
      status: row.status,
      payment_status: row.payment_status,
      payment_intent: row.payment_id,
      amount_total: Number(row.amount_minor),
      currency: row.currency,
      client_reference_id: row.request_id,
      metadata: { payment_request_id: row.request_id, org_id: row.org_id },
    };
  }

  private async send(type: string, object: Record<string, unknown>): Promise<void> {
    if (this.deliver === null) throw new Error('the sandbox payment provider is not connected to the relay');
    const now = this.clock();
    const event = {
      id: id('evt_sandbox'),
      object: 'event',
      created: Math.floor(now.getTime() / 1000),
      type,
      data: { object },
    };
    const body = JSON.stringify(event);
    const signature = signStripePayload(
      Buffer.from(body),
      this.webhookSecret,
      Math.floor(now.getTime() / 1000),
    );
    const status = await this.deliver({
      path: PAYMENT_WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body,
    });
    if (status !== 200) throw new Error(`the relay answered ${status} to a sandbox payment event`);
  }

  private toCheckout(row: SandboxCheckoutRow | undefined): Checkout {
    if (row === undefined)
      throw new PaymentProviderError(false, 'resource_missing', 'No such sandbox checkout.');
    return {
      id: row.id,
      url: row.status === 'open' ? `${this.publicUrl}${SANDBOX_CHECKOUT_PATH}/${row.id}` : null,
      status: row.status,
      paymentStatus: row.payment_status,
      amountTotal: Number(row.amount_minor),
      currency: row.currency,
      paymentId: row.payment_id,
      expiresAt: row.expires_at,
      requestId: row.request_id,
      // The sandbox's pretend card, so the thread shows what a real payment would.
      card: row.payment_status === 'paid' ? { brand: 'visa', last4: '4242' } : null,
    };
  }
}
