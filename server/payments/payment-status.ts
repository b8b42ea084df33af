import { PAYMENT_STATUS_VALUES } from '../../contract/payments.ts';

/**
 * A payment request's life, forward only: sent → opened → checkout_started → processing →
 * paid | failed | expired | canceled, then partially_refunded | refunded | disputed. Providers
 * deliver events late, twice and out of order; whatever arrives, a request never moves back.
 */
export const PAYMENT_STATUSES = PAYMENT_STATUS_VALUES;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const RANK: Record<PaymentStatus, number> = {
  sent: 0,
  opened: 1,
  checkout_started: 2,
  processing: 3,
  paid: 4,
  failed: 4,
  expired: 4,
  canceled: 4,
  partially_refunded: 5,
  refunded: 6,
  disputed: 7,
};

/** Statuses in which the link still takes a payment. */
export const OPEN_STATUSES: readonly PaymentStatus[] = ['sent', 'opened', 'checkout_started'];

/** Statuses after which the money arrived (refunds and disputes follow a payment). */
const PAID_OR_AFTER: readonly PaymentStatus[] = ['paid', 'partially_refunded', 'refunded', 'disputed'];

export const isPaid = (status: PaymentStatus): boolean => PAID_OR_AFTER.includes(status);

/**
 * The status after `next` is reported in `current`, or null to ignore the report. A payment that
 * lands after the link expired or was cancelled is still recorded as paid (the money moved; the
 * caller flags it for review); nothing else leaves a closed state, and refunds and disputes only
 * follow a payment.
 */
export function advance(current: PaymentStatus, next: PaymentStatus): PaymentStatus | null {
  if (next === current) return null;
  // A failed payment is final for that attempt; only a payment that did go through overrides it.
  if (current === 'failed') return next === 'paid' ? next : null;
  if (current === 'expired' || current === 'canceled')
    return next === 'paid' || next === 'processing' ? next : null;
  if (next === 'partially_refunded' || next === 'refunded' || next === 'disputed')
    return isPaid(current) && RANK[next] > RANK[current] ? next : null;
  return RANK[next] > RANK[current] ? next : null;
}
