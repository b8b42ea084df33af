/**
 * Message texts sealed at rest (server/crypto/vault.ts): sealed where a message is written, opened
 * where one is read, so nothing above the stores sees the difference. `body_key` names the data
 * key that sealed a body; NULL means the body is in clear (written before sealing, or purged).
 */

import { vaultOf } from '../crypto/vault.ts';
import type { Queryable } from '../db/database.ts';
import { openPaymentDetails, sealPaymentDetails } from '../payments/payment-details.ts';
import { phoneNumber, phoneToken } from './phone-columns.ts';

/** What a message's sealed text is bound to. */
export const messageContext = (messageId: string): string => `message:${messageId}`;

/** What a text to a number no org owns is sealed to (with the master key: there is no org key). */
export const unassignedContext = (text: { provider: string; providerMessageId: string }): string =>
  `unassigned:${text.provider}:${text.providerMessageId}`;

/** A text to store: sealed under the org's active data key ('' stays '', nothing to hide). */
export async function sealBody(
  q: Queryable,
  orgId: string,
  messageId: string,
  body: string,
): Promise<{ body: string; bodyKey: number | null }> {
  if (body === '') return { body, bodyKey: null };
  const { sealed, keyNo } = await vaultOf(q).seal(q, orgId, messageContext(messageId), body);
  return { body: sealed, bodyKey: keyNo };
}

/** A stored text as written: opened when sealed. */
export async function openBody(
  q: Queryable,
  orgId: string,
  messageId: string,
  body: string,
  bodyKey: number | null | undefined,
): Promise<string> {
  // A purged body is '' whatever key sealed it once (its live event keeps the key's number).
  if (bodyKey == null || body === '') return body;
  return vaultOf(q).open(q, orgId, messageContext(messageId), body, bodyKey);
}

interface BodyRow {
  id: string;
  org_id: string;
  body: string;
  body_key?: number | null;
  from_e164?: string;
  to_e164?: string;
}

/**
 * Opens message rows in place (and returns them), as read with `body_key`: the body, and the
 * customer's number (stored as a token, phone-tokens.ts) on whichever side it is.
 */
export async function openBodies<T extends BodyRow>(q: Queryable, rows: T[]): Promise<T[]> {
  for (const row of rows) {
    row.body = await openBody(q, row.org_id, row.id, row.body, row.body_key);
    row.body_key = null;
    if (row.from_e164 !== undefined) row.from_e164 = phoneNumber(q, row.from_e164);
    if (row.to_e164 !== undefined) row.to_e164 = phoneNumber(q, row.to_e164);
  }
  return rows;
}

/**
 * A live event's payload with its message's text opened: message_dto (043_sealed_bodies.sql)
 * carries the sealed body and its `bodyKey`, which no client sees; a payment's description and
 * reference likewise (`detailsKey`, payment-details.ts).
 */
export async function openEventPayload(q: Queryable, orgId: string, payload: unknown): Promise<unknown> {
  return openPaymentInPayload(q, orgId, await openMessageInPayload(q, orgId, payload));
}

async function openMessageInPayload(q: Queryable, orgId: string, payload: unknown): Promise<unknown> {
  const message = (payload as { message?: Record<string, unknown> } | null)?.message;
  if (typeof message !== 'object' || message === null) return payload;
  const { bodyKey, ...rest } = message;
  const body =
    typeof bodyKey === 'number' && typeof rest.body === 'string' && typeof rest.id === 'string'
      ? await openBody(q, orgId, rest.id, rest.body, bodyKey)
      : rest.body;
  const numbers = Object.fromEntries(
    (['from', 'to'] as const)
      .filter((side) => typeof rest[side] === 'string')
      .map((side) => [side, phoneNumber(q, rest[side] as string)]),
  );
  return { ...(payload as object), message: { ...rest, body, ...numbers } };
}

async function openPaymentInPayload(q: Queryable, orgId: string, payload: unknown): Promise<unknown> {
  const payment = paymentOf(payload);
  if (payment === null || !('detailsKey' in payment)) return payload;
  const { detailsKey, ...rest } = payment;
  const details = await openPaymentDetails(q, orgId, payment.id, payment, detailsKey as number | null);
  return { ...(payload as object), payment: { ...rest, ...details } };
}

/** The other way: a payload about to be stored, its message's text sealed (what appendEvent stores). */
export async function sealEventPayload(q: Queryable, orgId: string, payload: unknown): Promise<unknown> {
  const withMessage = await sealMessageInPayload(q, orgId, payload);
  const payment = paymentOf(withMessage);
  if (payment === null || 'detailsKey' in payment) return withMessage;
  const sealed = await sealPaymentDetails(q, orgId, payment.id, payment);
  return { ...(withMessage as object), payment: { ...payment, ...sealed } };
}

async function sealMessageInPayload(q: Queryable, orgId: string, payload: unknown): Promise<unknown> {
  const message = (payload as { message?: Record<string, unknown> } | null)?.message;
  if (typeof message !== 'object' || message === null) return payload;
  // The customer's side only: the business's own number is public (as message_dto stores it).
  const side = message.direction === 'inbound' ? 'from' : 'to';
  const numbers = typeof message[side] === 'string' ? { [side]: phoneToken(q, message[side] as string) } : {};
  if ('bodyKey' in message || typeof message.body !== 'string' || typeof message.id !== 'string')
    return { ...(payload as object), message: { ...message, ...numbers } };
  const sealed = await sealBody(q, orgId, message.id, message.body);
  return {
    ...(payload as object),
    message: { ...message, ...numbers, body: sealed.body, bodyKey: sealed.bodyKey },
  };
}

/** A payload's payment request (a PaymentDto), when it carries one with its details. */
function paymentOf(
  payload: unknown,
): (Record<string, unknown> & { id: string; description: string; reference: string | null }) | null {
  const payment = (payload as { payment?: Record<string, unknown> } | null)?.payment;
  if (typeof payment !== 'object' || payment === null) return null;
  const { id, description, reference } = payment;
  if (typeof id !== 'string' || typeof description !== 'string') return null;
  if (reference !== null && typeof reference !== 'string') return null;
  return payment as Record<string, unknown> & { id: string; description: string; reference: string | null };
}

/** Texts to numbers no org owns, oldest first, opened (for an operator; sealed with the master key). */
export async function unassignedTexts(
  q: Queryable,
  limit = 100,
): Promise<{ provider: string; providerMessageId: string; from: string; to: string; body: string }[]> {
  const rows = await q.query<{
    provider: string;
    provider_message_id: string;
    from_e164: string;
    to_e164: string;
    body: string;
    body_sealed: string | null;
  }>(
    `SELECT provider, provider_message_id, from_e164, to_e164, body, body_sealed
       FROM unassigned_inbound ORDER BY id LIMIT $1`,
    [limit],
  );
  const provider = vaultOf(q).provider;
  const texts = [];
  for (const r of rows) {
    const text = { provider: r.provider, providerMessageId: r.provider_message_id };
    texts.push({
      ...text,
      from: phoneNumber(q, r.from_e164),
      to: r.to_e164,
      body:
        r.body_sealed === null ? r.body : await provider.openValue(r.body_sealed, unassignedContext(text)),
    });
  }
  return texts;
}
