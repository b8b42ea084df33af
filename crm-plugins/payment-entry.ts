/**
 * How a payment request reads on a CRM record, the same in every CRM: a title, a plain-text body
 * and the rule that finds a deal or opportunity in the rep's reference.
 */
import { CrmNotFoundError, CrmPermissionError } from './errors.ts';
import type { CrmId, CrmPayment, CrmPaymentStatus } from './types.ts';

const STATUS_LABEL: Record<CrmPaymentStatus, string> = {
  sent: 'Link sent',
  opened: 'Link opened',
  checkout_started: 'Checkout started',
  processing: 'Processing',
  paid: 'Paid',
  failed: 'Failed',
  expired: 'Expired',
  canceled: 'Canceled',
  partially_refunded: 'Partially refunded',
  refunded: 'Refunded',
  disputed: 'Disputed',
};

/** The status as a person reads it on the record ("Paid", "Link sent"…). */
export const paymentStatusLabel = (status: CrmPaymentStatus): string => STATUS_LABEL[status];

/** Statuses after which the money arrived; only these name the card. */
const MONEY_MOVED: readonly CrmPaymentStatus[] = ['paid', 'partially_refunded', 'refunded', 'disputed'];

/** The currency's minor-unit digits (2 for USD, 0 for JPY, 3 for KWD); 2 for a code the runtime lacks. */
function minorDigits(currency: string): number {
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
    return format.resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // best effort: an unknown code is still written, read as cents.
    return 2;
  }
}

/** An amount in major units, as number fields in a CRM hold it (12550 USD cents → 125.5). */
export const majorUnits = (amountMinor: number, currency: string): number =>
  Number((amountMinor / 10 ** minorDigits(currency)).toFixed(minorDigits(currency)));

/** An amount in the currency's own minor unit, e.g. "$125.50" or "¥500". */
export function formatMoney(amountMinor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
    return format.format(majorUnits(amountMinor, currency));
  } catch {
    // best effort: a code the runtime cannot format is still shown, as minor units and the code.
    return `${amountMinor} ${currency.toUpperCase()} (minor units)`;
  }
}

/**
 * Runs a write to a deal or opportunity the reference names: true when written, false when the
 * CRM has no such record or the connection may not write deals (a typo in the reference, or a
 * token without the deals scope, must not stop the entry on the contact).
 */
export async function writtenUnlessGone(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof CrmNotFoundError || error instanceof CrmPermissionError) return false;
    throw error;
  }
}

const BRANDS: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  diners: 'Diners Club',
  jcb: 'JCB',
  unionpay: 'UnionPay',
};

/**
 * "Paid by Visa ending 4242", and nothing more about the card: a brand is only ever a word, and
 * anything but four digits is not written at all.
 */
export function cardLine(payment: CrmPayment): string | null {
  const card = payment.card;
  if (card === null || !MONEY_MOVED.includes(payment.status) || !/^\d{4}$/.test(card.last4)) return null;
  const key = card.brand.toLowerCase().replace(/[^a-z]/g, '');
  const brand = BRANDS[key] ?? (key === '' ? 'card' : key[0]?.toUpperCase() + key.slice(1, 20));
  return `Paid by ${brand} ending ${card.last4}`;
}

const utc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** One line for titles and subjects: "Payment request $125.50: Paid". */
export function paymentTitle(payment: CrmPayment): string {
  return `Payment request ${formatMoney(payment.amountMinor, payment.currency)}: ${paymentStatusLabel(payment.status)}`;
}

/** The entry's body, one fact a line; never more card data than the brand and last 4. */
export function paymentBody(payment: CrmPayment): string {
  const refunded = payment.refundedMinor > 0 ? formatMoney(payment.refundedMinor, payment.currency) : null;
  const open =
    payment.status === 'sent' || payment.status === 'opened' || payment.status === 'checkout_started';
  return [
    `Amount: ${formatMoney(payment.amountMinor, payment.currency)} (${payment.currency.toUpperCase()})`,
    `For: ${payment.description}`,
    payment.reference === null ? null : `Reference: ${payment.reference}`,
    `Status: ${paymentStatusLabel(payment.status)}`,
    cardLine(payment),
    payment.paidAt === null ? null : `Paid at: ${utc(payment.paidAt)}`,
    refunded === null ? null : `Refunded: ${refunded}`,
    `Link ${open ? 'expires' : 'expiry'}: ${utc(payment.expiresAt)}`,
    `Payment request: ${payment.requestId}`,
  ]
    .filter((line) => line !== null)
    .join('\n');
}

/**
 * The deal a reference names, by one rule per CRM (README, "Payments in the CRM"):
 * HubSpot: `deal:<numeric id>` (a bare number may be an invoice number, so it is not a deal);
 * Salesforce: an Opportunity id (15 or 18 characters starting 006), bare or as `opportunity:<id>`.
 * The sandbox CRM has no deals. Anything else is only shown as the reference.
 */
export function dealIdOf(crm: CrmId, reference: string | null): string | null {
  const text = reference?.trim() ?? '';
  if (crm === 'sandbox') return null;
  if (crm === 'salesforce') {
    const m = /^(?:opportunity\s*:\s*)?(006[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)$/i.exec(text);
    return m?.[1] ?? null;
  }
  const m = /^deal\s*:\s*(\d{1,20})$/i.exec(text);
  return m?.[1] ?? null;
}
