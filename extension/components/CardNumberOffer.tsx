import type { Payment } from '../lib/payment-types.ts';
import type { Message } from '../lib/relay-types.ts';

/**
 * The customer's latest text that held a card number (removed by the relay before it was stored),
 * unless a payment request was made after it; null otherwise.
 */
export function unansweredCardText(
  messages: readonly Message[],
  payments: readonly Payment[],
): Message | null {
  const carded = messages.filter(
    (m) => m.direction === 'inbound' && m.redactions.some((r) => r.kind === 'card'),
  );
  const latest = carded.reduce<Message | null>(
    (a, m) => (a === null || m.createdAt > a.createdAt ? m : a),
    null,
  );
  if (latest === null) return null;
  return payments.some((p) => p.createdAt > latest.createdAt) ? null : latest;
}

/**
 * After a customer texts a card number: the relay removed it, and the rep gets a one-click way to
 * send a secure payment link instead of asking again by text.
 */
export function CardNumberOffer({
  messages,
  payments,
  onRequest,
}: {
  messages: readonly Message[];
  payments: readonly Payment[];
  onRequest(): void;
}) {
  if (unansweredCardText(messages, payments) === null) return null;
  return (
    <div class="section notice warn" data-testid="card-number-offer">
      <p>
        The customer texted a card number. It was removed and never stored; do not ask for it again by text.
      </p>
      <button type="button" class="primary" onClick={onRequest}>
        Send a secure payment link…
      </button>
    </div>
  );
}
