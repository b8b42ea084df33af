import { type PaymentEvent, type PaymentEventKind, WebhookRejected } from './payment-provider.ts';
import { verifyStripeSignature } from './stripe-signature.ts';

/**
 * Stripe's event shapes, read into what the relay acts on. The sandbox provider speaks the same
 * shapes, so one reader serves both (and needs no SDK).
 */
const KINDS: Record<string, PaymentEventKind> = {
  'checkout.session.completed': 'checkout_completed',
  'checkout.session.async_payment_succeeded': 'async_payment_succeeded',
  'checkout.session.async_payment_failed': 'async_payment_failed',
  'checkout.session.expired': 'checkout_expired',
  'charge.refunded': 'refunded',
  'charge.dispute.created': 'dispute_created',
  'payment_intent.payment_failed': 'payment_failed',
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
  // A PaymentIntent event names itself; the others name their PaymentIntent.
  const intent = type.startsWith('payment_intent.') ? object.id : object.payment_intent;
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

/** A Stripe-format webhook: its Stripe-Signature checked under any of `secrets`, then read. */
export function verifiedStripeEvent(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  now: Date,
): PaymentEvent {
  const header = headers['stripe-signature'];
  verifyStripeSignature(rawBody, Array.isArray(header) ? header[0] : header, secrets, now);
  return normaliseStripeEvent(rawBody);
}
