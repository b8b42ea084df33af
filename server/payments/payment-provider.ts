/**
 * What the relay needs from a payment provider (Stripe, the sandbox). Card entry happens only on
 * the provider's hosted page: nothing here carries a card number, only what the rep may see
 * (brand and last 4) once the provider reports a payment.
 */

/** One checkout attempt for a payment request (a Stripe Checkout Session). */
export interface CheckoutInput {
  /** Our payment request's id; the provider echoes it back in webhooks (metadata). */
  requestId: string;
  orgId: string;
  /** In the currency's minor unit (cents). */
  amountMinor: number;
  /** ISO 4217, lower case. */
  currency: string;
  /** Shown on the provider's page as what is being paid for. */
  description: string;
  reference: string | null;
  businessName: string;
  /** Where the provider sends the customer after paying, or when they go back. */
  successUrl: string;
  cancelUrl: string;
  /** When the provider's page stops taking payment (within the provider's own limits). */
  expiresAt: Date;
  /** One per attempt: a retried create returns the same checkout instead of a second one. */
  idempotencyKey: string;
}

export type CheckoutStatus = 'open' | 'complete' | 'expired';

/** A checkout as the provider reports it now. */
export interface Checkout {
  id: string;
  /** The provider's hosted page; null once it no longer takes payment. */
  url: string | null;
  status: CheckoutStatus;
  paymentStatus: 'paid' | 'unpaid' | 'no_payment_required';
  amountTotal: number | null;
  currency: string | null;
  /** The payment behind it (Stripe PaymentIntent), for refunds; null before the customer pays. */
  paymentId: string | null;
  expiresAt: Date;
  /** Our payment request's id from the checkout's metadata. */
  requestId: string | null;
  /** Brand and last 4 of the card used, when the provider reports them; never more. */
  card: { brand: string; last4: string } | null;
}

/** What a provider's webhook event means for a payment request. */
export type PaymentEventKind =
  | 'checkout_completed'
  | 'async_payment_succeeded'
  | 'async_payment_failed'
  | 'checkout_expired'
  | 'refunded'
  | 'dispute_created'
  /** A card attempt on the link's checkout failed (declined); counted for card-testing holds. */
  | 'payment_failed'
  | 'ignored';

/** A verified webhook event, normalised. */
export interface PaymentEvent {
  /** The provider's event id: the same event delivered twice is processed once. */
  id: string;
  kind: PaymentEventKind;
  /** The provider's own event type, kept for the record. */
  type: string;
  createdAt: Date;
  checkoutId: string | null;
  paymentId: string | null;
  requestId: string | null;
  /** For refunds: the total refunded so far and the amount charged. */
  amountRefunded: number | null;
  amountCharged: number | null;
}

export interface Refund {
  id: string;
  status: string;
  amountMinor: number;
}

/** Why a webhook was refused; the route answers 400 with the code. */
export class WebhookRejected extends Error {
  constructor(
    readonly code:
      | 'MISSING_SIGNATURE'
      | 'MALFORMED_SIGNATURE'
      | 'BAD_SIGNATURE'
      | 'STALE_SIGNATURE'
      | 'MALFORMED_EVENT',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRejected';
  }
}

/** A provider refusal or outage; `retryable` says whether trying again later can succeed. */
export class PaymentProviderError extends Error {
  constructor(
    readonly retryable: boolean,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PaymentProviderError';
  }
}

export interface PaymentProvider {
  readonly name: 'stripe' | 'sandbox';
  createCheckout(input: CheckoutInput): Promise<Checkout>;
  getCheckout(id: string): Promise<Checkout>;
  /** Stops an open checkout taking payment; an already expired one is returned as it is. */
  expireCheckout(id: string): Promise<Checkout>;
  refund(paymentId: string, amountMinor: number | null, idempotencyKey: string): Promise<Refund>;
  /**
   * Verifies a webhook's signature over its exact raw bytes and reads the event; throws
   * WebhookRejected when anything is wrong. `now` is the relay's clock.
   */
  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    now: Date,
  ): PaymentEvent;
}
