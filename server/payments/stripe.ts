import Stripe from 'stripe';
import {
  type Checkout,
  type CheckoutInput,
  type CheckoutStatus,
  type PaymentEvent,
  type PaymentProvider,
  PaymentProviderError,
  type Refund,
} from './payment-provider.ts';
import { verifiedStripeEvent } from './stripe-events.ts';

/**
 * The API version this code was written against, pinned with the SDK (stripe 23.2.0): Stripe
 * renames fields between versions (ui_mode values, for one), so neither floats.
 */
export const STRIPE_API_VERSION = '2026-11-18.endive';

export interface StripeSettings {
  secretKey: string;
  /** Webhook signing secrets (whsec_…); more than one while a secret is being rotated. */
  webhookSecrets: string[];
  /** A base-URL override (tests point the SDK at a local fake); null for api.stripe.com. */
  apiUrl: string | null;
  timeoutMs: number;
}

/** The only file that imports the Stripe SDK: Checkout Sessions, refunds and signed webhooks. */
export class StripePayments implements PaymentProvider {
  readonly name = 'stripe' as const;
  private readonly stripe: Stripe;

  constructor(private readonly settings: StripeSettings) {
    const base = settings.apiUrl === null ? null : new URL(settings.apiUrl);
    this.stripe = new Stripe(settings.secretKey, {
      apiVersion: STRIPE_API_VERSION as Stripe.StripeConfig['apiVersion'],
      telemetry: false,
      timeout: settings.timeoutMs,
      // A create is retried by the relay with the same idempotency key, never blindly by the SDK.
      maxNetworkRetries: 0,
      ...(base === null
        ? {}
        : {
            host: base.hostname,
            port: base.port === '' ? (base.protocol === 'https:' ? 443 : 80) : Number(base.port),
            protocol: base.protocol === 'http:' ? 'http' : 'https',
          }),
    });
  }

  async createCheckout(input: CheckoutInput): Promise<Checkout> {
    const metadata = { payment_request_id: input.requestId, org_id: input.orgId };
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: input.currency,
                unit_amount: input.amountMinor,
                product_data: { name: input.description },
              },
            },
          ],
          client_reference_id: input.requestId,
          metadata,
          payment_intent_data: {
            description:
              input.reference === null ? input.description : `${input.description} (${input.reference})`,
            metadata,
          },
          expires_at: Math.floor(input.expiresAt.getTime() / 1000),
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return toCheckout(session);
  }

  async getCheckout(id: string): Promise<Checkout> {
    const session = await this.call(() =>
      this.stripe.checkout.sessions.retrieve(id, { expand: ['payment_intent.latest_charge'] }),
    );
    return toCheckout(session);
  }

  async expireCheckout(id: string): Promise<Checkout> {
    const current = await this.getCheckout(id);
    if (current.status !== 'open') return current;
    return toCheckout(await this.call(() => this.stripe.checkout.sessions.expire(id)));
  }

  async refund(paymentId: string, amountMinor: number | null, idempotencyKey: string): Promise<Refund> {
    const refund = await this.call(() =>
      this.stripe.refunds.create(
        { payment_intent: paymentId, ...(amountMinor === null ? {} : { amount: amountMinor }) },
        { idempotencyKey },
      ),
    );
    return { id: refund.id, status: refund.status ?? 'pending', amountMinor: refund.amount };
  }

  /**
   * Checks the key reaches Stripe and may read Checkout Sessions (what a restricted key for payment
   * links needs at least); answers whether it is a live or a test key.
   */
  async verify(): Promise<{ livemode: boolean }> {
    const page = await this.call(() => this.stripe.checkout.sessions.list({ limit: 1 }));
    return { livemode: page.data[0]?.livemode ?? this.settings.secretKey.includes('_live_') };
  }

  /** Where this account's checkout pages may be (the payment page's form may post there). */
  checkoutOrigins(): string[] {
    return ['https://checkout.stripe.com', ...(this.settings.apiUrl === null ? [] : [this.settings.apiUrl])];
  }

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    now: Date,
  ): PaymentEvent {
    return verifiedStripeEvent(rawBody, headers, this.settings.webhookSecrets, now);
  }

  /** Runs one SDK call; Stripe's errors become PaymentProviderError with a retryable flag. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Stripe.errors.StripeError) {
        const status = error.statusCode ?? 0;
        const retryable =
          error instanceof Stripe.errors.StripeConnectionError ||
          error instanceof Stripe.errors.StripeRateLimitError ||
          status >= 500;
        throw new PaymentProviderError(retryable, error.code ?? error.rawType ?? error.type, error.message);
      }
      throw error;
    }
  }
}

function chargeCard(intent: Stripe.Checkout.Session['payment_intent']): Checkout['card'] {
  if (intent === null || typeof intent === 'string') return null;
  const charge = intent.latest_charge;
  if (charge === null || typeof charge === 'string') return null;
  const card = charge.payment_method_details?.card;
  if (card === undefined || card === null || card.last4 === null) return null;
  return { brand: card.brand ?? 'card', last4: card.last4 };
}

const CHECKOUT_STATUSES: readonly CheckoutStatus[] = ['open', 'complete', 'expired'];
const PAID_STATUSES: readonly Checkout['paymentStatus'][] = ['paid', 'unpaid', 'no_payment_required'];

function toCheckout(session: Stripe.Checkout.Session): Checkout {
  const intent = session.payment_intent;
  return {
    id: session.id,
    url: session.url,
    // Stripe's enums are open-ended; a value this code does not know reads as not (yet) paid.
    status: CHECKOUT_STATUSES.find((s) => s === session.status) ?? 'open',
    paymentStatus: PAID_STATUSES.find((s) => s === session.payment_status) ?? 'unpaid',
    amountTotal: session.amount_total,
    currency: session.currency,
    paymentId: intent === null ? null : typeof intent === 'string' ? intent : intent.id,
    expiresAt: new Date(session.expires_at * 1000),
    requestId: session.metadata?.payment_request_id ?? session.client_reference_id ?? null,
    card: chargeCard(intent),
  };
}
