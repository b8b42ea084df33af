/**
 * A payment request's description and reference sealed at rest (045_sealed_details.sql): what the
 * customer pays for is often a treatment or an account, as private as a text. Sealed under the
 * org's data key where a request is written, bound to its id and field, and opened where one is
 * read, so the routes, pages and CRM write-backs see them as written. `details_key` NULL means
 * they are in clear (written before sealing, until the re-seal pass seals them).
 */
import { type SecretsKey, seal } from '../crypto/secrets.ts';
import { vaultOf } from '../crypto/vault.ts';
import type { Queryable } from '../db/database.ts';
import { phoneNumberOrNull } from '../stores/phone-columns.ts';

type Field = 'description' | 'reference';

/** What a request's sealed field is bound to. */
export const paymentDetailContext = (requestId: string, field: Field): string =>
  `payment_request:${requestId}:${field}`;

export interface PaymentDetails {
  description: string;
  reference: string | null;
}

/** The description and reference to store, sealed under the org's active data key. */
export async function sealPaymentDetails(
  q: Queryable,
  orgId: string,
  requestId: string,
  details: PaymentDetails,
): Promise<PaymentDetails & { detailsKey: number }> {
  const active = await vaultOf(q).activeKey(q, orgId);
  return { ...sealPaymentDetailsWith(active.key, requestId, details), detailsKey: active.no };
}

/** Both fields sealed with a key in hand (here, and the re-seal pass's one key per batch). */
export function sealPaymentDetailsWith(
  key: SecretsKey,
  requestId: string,
  details: PaymentDetails,
): PaymentDetails {
  return {
    description: seal(key, details.description, paymentDetailContext(requestId, 'description')),
    reference:
      details.reference === null
        ? null
        : seal(key, details.reference, paymentDetailContext(requestId, 'reference')),
  };
}

/** The description and reference as written: opened when sealed. */
export async function openPaymentDetails(
  q: Queryable,
  orgId: string,
  requestId: string,
  stored: PaymentDetails,
  detailsKey: number | null | undefined,
): Promise<PaymentDetails> {
  if (detailsKey == null) return stored;
  const vault = vaultOf(q);
  const open = (field: Field, text: string) =>
    vault.open(q, orgId, paymentDetailContext(requestId, field), text, detailsKey);
  return {
    description: await open('description', stored.description),
    reference: stored.reference === null ? null : await open('reference', stored.reference),
  };
}

interface DetailRow extends PaymentDetails {
  id: string;
  org_id: string;
  details_key?: number | null;
  to_e164?: string | null;
}

/** Opens request rows in place (and returns them), as read with `details_key`; the customer's number too. */
export async function openPaymentRows<T extends DetailRow>(q: Queryable, rows: T[]): Promise<T[]> {
  for (const row of rows) {
    Object.assign(row, await openPaymentDetails(q, row.org_id, row.id, row, row.details_key));
    row.details_key = null;
    if (row.to_e164 !== undefined) row.to_e164 = phoneNumberOrNull(q, row.to_e164);
  }
  return rows;
}

/** One request row opened, or null as read. */
export async function openPaymentRow<T extends DetailRow>(
  q: Queryable,
  row: T | undefined,
): Promise<T | null> {
  if (row === undefined) return null;
  return (await openPaymentRows(q, [row]))[0] ?? null;
}
