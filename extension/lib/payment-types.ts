import type { Static } from 'typebox';
import { PAYMENT_STATUS_VALUES, type PaymentSchema } from '../../contract/payments.ts';
import { parseMessage, parsePreflight } from './relay-types.ts';
import { arr, num, obj, oneOf, ShapeError, str, strOrNull } from './validate.ts';

/**
 * Payment requests as the relay answers them (contract/payments.ts), and their parsers. A rep sees
 * at most a card's brand and last 4; the link's token never reaches the extension.
 */

export type Payment = Static<typeof PaymentSchema>;
export type PaymentStatus = Payment['status'];

export interface PaymentPreview {
  text: string;
  check: ReturnType<typeof parsePreflight>;
  settings: { currencies: string[]; linkDays: number; maxLinkDays: number; maxAmountMinor: number };
}

/** The org's payment-link terms (GET /v1/payment-requests/terms). */
export interface PaymentTerms {
  businessName: string;
  /** Lower case ISO 4217; the first is the default. */
  currencies: string[];
  linkDays: number;
  maxLinkDays: number;
  maxAmountMinor: number;
}

export interface PaymentCreated {
  payment: Payment;
  message: ReturnType<typeof parseMessage>;
}

/** Statuses in which the link can still be paid: the rep may cancel it or send its one reminder. */
export const OPEN_PAYMENT_STATUSES: readonly PaymentStatus[] = ['sent', 'opened', 'checkout_started'];

const int = (value: unknown, path: string): number => {
  const n = num(value, path);
  if (!Number.isInteger(n)) throw new ShapeError(path, 'an integer');
  return n;
};

export function parsePayment(value: unknown, path = 'payment'): Payment {
  const o = obj(value, path);
  const by = obj(o.createdBy, `${path}.createdBy`);
  return {
    id: str(o.id, `${path}.id`),
    status: oneOf(o.status, PAYMENT_STATUS_VALUES, `${path}.status`),
    amountMinor: int(o.amountMinor, `${path}.amountMinor`),
    currency: str(o.currency, `${path}.currency`),
    amountText: str(o.amountText, `${path}.amountText`),
    description: str(o.description, `${path}.description`),
    reference: strOrNull(o.reference, `${path}.reference`),
    conversationId: strOrNull(o.conversationId, `${path}.conversationId`),
    messageId: strOrNull(o.messageId, `${path}.messageId`),
    expiresAt: str(o.expiresAt, `${path}.expiresAt`),
    createdAt: str(o.createdAt, `${path}.createdAt`),
    updatedAt: str(o.updatedAt, `${path}.updatedAt`),
    createdBy: {
      userId: strOrNull(by.userId, `${path}.createdBy.userId`),
      name: strOrNull(by.name, `${path}.createdBy.name`),
    },
    paid: o.paid === null || o.paid === undefined ? null : parsePaid(o.paid, `${path}.paid`),
    refundedMinor: int(o.refundedMinor ?? 0, `${path}.refundedMinor`),
    reviewReason: strOrNull(o.reviewReason, `${path}.reviewReason`),
    remindedAt: strOrNull(o.remindedAt, `${path}.remindedAt`),
  };
}

function parsePaid(value: unknown, path: string): NonNullable<Payment['paid']> {
  const p = obj(value, path);
  const card = p.card === null || p.card === undefined ? null : obj(p.card, `${path}.card`);
  return {
    amountMinor: int(p.amountMinor, `${path}.amountMinor`),
    currency: str(p.currency, `${path}.currency`),
    card:
      card === null
        ? null
        : { brand: str(card.brand, `${path}.card.brand`), last4: str(card.last4, `${path}.card.last4`) },
  };
}

/** `{ payment }`: the answer of cancel and remind, and the data of `payment.updated`. */
export function parsePaymentAnswer(value: unknown): Payment {
  return parsePayment(obj(value, 'body').payment);
}

export function parsePaymentList(value: unknown): Payment[] {
  return arr(obj(value, 'body').payments, 'payments', (v, p) => parsePayment(v, p));
}

export function parsePaymentCreated(value: unknown): PaymentCreated {
  const o = obj(value, 'body');
  return { payment: parsePayment(o.payment), message: parseMessage(o.message) };
}

export function parsePaymentPreview(value: unknown): PaymentPreview {
  const o = obj(value, 'body');
  const s = obj(o.settings, 'settings');
  return {
    text: str(o.text, 'text'),
    check: parsePreflight(o.check),
    settings: {
      currencies: arr(s.currencies, 'settings.currencies', (v, p) => str(v, p)),
      linkDays: int(s.linkDays, 'settings.linkDays'),
      maxLinkDays: int(s.maxLinkDays, 'settings.maxLinkDays'),
      maxAmountMinor: int(s.maxAmountMinor, 'settings.maxAmountMinor'),
    },
  };
}

export function parsePaymentTerms(value: unknown): PaymentTerms {
  const o = obj(value, 'body');
  return {
    businessName: str(o.businessName, 'businessName'),
    currencies: arr(o.currencies, 'currencies', (v, p) => str(v, p)),
    linkDays: int(o.linkDays, 'linkDays'),
    maxLinkDays: int(o.maxLinkDays, 'maxLinkDays'),
    maxAmountMinor: int(o.maxAmountMinor, 'maxAmountMinor'),
  };
}
