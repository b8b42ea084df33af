import Stripe from 'stripe';
import {
  type Checkout,
  type CheckoutInput,
  type CheckoutStatus,
  type PaymentEvent,
  type PaymentEventKind,
  type PaymentProvider,
  PaymentProviderError,
  type Refund,
  WebhookRejected,
} from './payment-provider.ts';
import { verifyStripeSignature } from './stripe-signature.ts';

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

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    now: Date,
  ): PaymentEvent {
    const header = headers['stripe-signature'];
    verifyStripeSignature(
      rawBody,
      Array.isArray(header) ? header[0] : header,
      this.settings.webhookSecrets,
      now,
    );
    return normaliseStripeEvent(rawBody);
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

const KINDS: Record<string, PaymentEventKind> = {
  'checkout.session.completed': 'checkout_completed',
  'checkout.session.async_payment_succeeded': 'async_payment_succeeded',
  'checkout.session.async_payment_failed': 'async_payment_failed',
  'checkout.session.expired': 'checkout_expired',
  'charge.refunded': 'refunded',
  'charge.dispute.created': 'dispute_created',
};

type Obj = Record<string, unknown>;
const str = (o: Obj, key: string): string | null => (typeof o[key] === 'string' ? (o[key] as string) : null);
const num = (o: Obj, key: string): number | null => (typeof o[key] === 'number' ? (o[key] as number) : null);

/** A verified event body, read into what the relay acts on; unknown types are kept as ignored. */
export function normaliseStripeEvent(rawBody: Buffer): PaymentEvent {
  let event: Obj;
  try {
    event = JSON.parse(rawBody.toString('utf8')) as Obj;
  } catch {
    throw new WebhookRejected('MALFORMED_EVENT', 'The webhook body is not JSON.');
  }
  const id = str(event, 'id');
  const type = str(event, 'type');
  const created = num(event, 'created');
  const object = (event.data as Obj | undefined)?.object as Obj | undefined;
  if (id === null || type === null || created === null || typeof object !== 'object' || object === null)
    throw new WebhookRejected(
      'MALFORMED_EVENT',
      'The webhook body is not a Stripe event (id, type, created, data.object).',
    );
  const kind = KINDS[type] ?? 'ignored';
  const isSession = type.startsWith('checkout.session.');
  const metadata = (object.metadata as Obj | undefined) ?? {};
  const intent = object.payment_intent;
  return {
    id,
    kind,
    type,
    createdAt: new Date(created * 1000),
    checkoutId: isSession ? str(object, 'id') : null,
    paymentId: typeof intent === 'string' ? intent : null,
    requestId: str(metadata, 'payment_request_id') ?? (isSession ? str(object, 'client_reference_id') : null),
    amountRefunded: type === 'charge.refunded' ? num(object, 'amount_refunded') : null,
    amountCharged: type === 'charge.refunded' ? num(object, 'amount') : null,
  };
}
