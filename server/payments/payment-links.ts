import { createHash, createHmac } from 'node:crypto';

/**
 * A request's link token: 128 bits derived from the request id under the installation's link
 * secret. Only its hash is stored, so a dump of the database opens no payment page; deriving it
 * (rather than drawing it at random) lets a retried request write the very same text.
 */
export function linkToken(secret: string, requestId: string): string {
  return createHmac('sha256', secret)
    .update(`payment-link:${requestId}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A token as the link carries it: 22 base64url characters (anything else is not ours). */
export const LINK_TOKEN = /^[A-Za-z0-9_-]{22}$/;

export const linkUrl = (base: string, token: string): string => `${base.replace(/\/$/, '')}/p/${token}`;

/** An amount as a customer reads it: "$125.50", "€40.00", in the currency's own minor unit. */
export function formatAmount(amountMinor: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amountMinor / 10 ** digits);
}

/** Whether `currency` is an ISO 4217 code the runtime can format (a typo is refused, not guessed). */
export function knownCurrency(currency: string): boolean {
  try {
    new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
    return Intl.supportedValuesOf('currency').includes(currency.toUpperCase());
  } catch {
    return false;
  }
}

/** A date as the text names it, e.g. "Dec 12": the customer's zone is unknown, so no hour. */
const expiryDay = (at: Date): string =>
  at.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/**
 * The text that carries a payment link: who asks, how much, for what, the link, until when, and
 * the promise that card numbers are never asked for by text. The opt-out notice and the first-
 * contact identification are added by the normal send path, as for any text.
 */
export function paymentText(input: {
  businessName: string;
  amountMinor: number;
  currency: string;
  description: string;
  reference: string | null;
  link: string;
  expiresAt: Date;
  reminder?: boolean;
}): string {
  const what = input.reference === null ? input.description : `${input.description} (ref ${input.reference})`;
  const lead = input.reminder === true ? 'Reminder: your payment request' : 'Payment request';
  return [
    `${input.businessName}: ${lead} for ${formatAmount(input.amountMinor, input.currency)}, ${what}.`,
    `Pay securely: ${input.link} (until ${expiryDay(input.expiresAt)}).`,
    'We never ask for card numbers by text.',
  ].join(' ');
}
