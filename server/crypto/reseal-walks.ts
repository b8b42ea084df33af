/**
 * The re-seal pass's walks besides the texts (reseal.ts): an org's live events, consent ledger,
 * pending double opt-ins and payment requests, each in bounded batches, each row sealed under
 * another key (or in clear, written before sealing) re-sealed under the new one.
 */
import type { Queryable } from '../db/database.ts';
import { openPaymentDetails, sealPaymentDetailsWith } from '../payments/payment-details.ts';
import { evidenceContext, openEvidence } from '../stores/consent-evidence.ts';
import { messageContext, openBody } from '../stores/message-bodies.ts';
import { openRequestEvidence, optInRequestContext } from '../stores/opt-in-requests.ts';
import { seal } from './secrets.ts';
import type { KeyVault } from './vault.ts';

export const BATCH = 500;

/**
 * Whether a row sealed under `key` (null: in clear) is due for `keyNo`: only older keys. A pass
 * for an older key that overlaps a newer one's (two rotations in quick succession) must not seal
 * back under its key what the newer pass already moved on: that key is about to be destroyed.
 */
export const olderThan = (key: number | null, keyNo: number): boolean => key === null || key < keyNo;

/** One batch's work: how many rows it re-sealed, and where the next starts (null: the end). */
export interface Page<C> {
  done: number;
  last: C | null;
}

export type Walk<C> = (
  tx: Queryable,
  vault: KeyVault,
  orgId: string,
  keyNo: number,
  after: C | null,
) => Promise<Page<C>>;

type Serial = { tx: number; id: number };

/** One batch of the org's live events: a message's text or a payment's details under another key re-sealed. */
export const resealEvents: Walk<Serial> = async (tx, vault, orgId, keyNo, after) => {
  const rows = await tx.query<{ id: number; tx_id: number; payload: Record<string, unknown> | null }>(
    `SELECT id, tx_id, payload FROM events
      WHERE org_id = $1 AND (tx_id, id) > ($2, $3) AND (payload ? 'message' OR payload ? 'payment')
      ORDER BY tx_id, id LIMIT ${BATCH}`,
    [orgId, after?.tx ?? -1, after?.id ?? -1],
  );
  const key = await vault.keyByNo(tx, orgId, keyNo);
  let done = 0;
  for (const r of rows) {
    const message = await resealedMessage(tx, key, orgId, keyNo, r.payload?.message);
    const payment = await resealedPayment(tx, key, orgId, keyNo, r.payload?.payment);
    if (message === null && payment === null) continue;
    await tx.query('UPDATE events SET payload = $2 WHERE id = $1', [
      r.id,
      JSON.stringify({
        ...r.payload,
        ...(message === null ? {} : { message }),
        ...(payment === null ? {} : { payment }),
      }),
    ]);
    done += 1;
  }
  const last = rows.at(-1);
  return { done, last: last === undefined ? null : { tx: last.tx_id, id: last.id } };
};

/** An event's message with its text re-sealed, or null when it is already under `keyNo` (or has none). */
async function resealedMessage(
  tx: Queryable,
  key: Parameters<typeof seal>[0],
  orgId: string,
  keyNo: number,
  message: unknown,
): Promise<Record<string, unknown> | null> {
  if (typeof message !== 'object' || message === null) return null;
  const m = message as Record<string, unknown>;
  if (typeof m.id !== 'string' || typeof m.body !== 'string' || m.body === '') return null;
  const bodyKey = typeof m.bodyKey === 'number' ? m.bodyKey : null;
  if (!olderThan(bodyKey, keyNo)) return null;
  // An event written before sealing has no key: its text is in clear.
  const text = await openBody(tx, orgId, m.id, m.body, bodyKey);
  return { ...m, body: seal(key, text, messageContext(m.id)), bodyKey: keyNo };
}

/** An event's payment with its details re-sealed, or null when they are already under `keyNo`. */
async function resealedPayment(
  tx: Queryable,
  key: Parameters<typeof seal>[0],
  orgId: string,
  keyNo: number,
  payment: unknown,
): Promise<Record<string, unknown> | null> {
  if (typeof payment !== 'object' || payment === null) return null;
  const p = payment as Record<string, unknown>;
  if (typeof p.id !== 'string' || typeof p.description !== 'string') return null;
  const reference = typeof p.reference === 'string' ? p.reference : null;
  const detailsKey = typeof p.detailsKey === 'number' ? p.detailsKey : null;
  if (!olderThan(detailsKey, keyNo)) return null;
  const details = await openPaymentDetails(
    tx,
    orgId,
    p.id,
    { description: p.description, reference },
    detailsKey,
  );
  return { ...p, ...sealPaymentDetailsWith(key, p.id, details), detailsKey: keyNo };
}

/** One batch of the org's consent ledger: evidence under another key (or none) re-sealed. */
export const resealEvidence: Walk<Serial> = async (tx, vault, orgId, keyNo, after) => {
  const rows = await tx.query<{ id: number; tx_id: number; evidence: string; evidence_key: number | null }>(
    `SELECT id, tx_id, evidence, evidence_key FROM consent_events
      WHERE org_id = $1 AND (tx_id, id) > ($2, $3) ORDER BY tx_id, id LIMIT ${BATCH}`,
    [orgId, after?.tx ?? -1, after?.id ?? -1],
  );
  const stale = rows.filter((r) => olderThan(r.evidence_key, keyNo));
  const key = await vault.keyByNo(tx, orgId, keyNo);
  for (const r of stale) {
    const text = await openEvidence(tx, orgId, r.id, r.evidence, r.evidence_key);
    await tx.query('UPDATE consent_events SET evidence = $2, evidence_key = $3 WHERE id = $1', [
      r.id,
      seal(key, text, evidenceContext(r.id)),
      keyNo,
    ]);
  }
  const last = rows.at(-1);
  return { done: stale.length, last: last === undefined ? null : { tx: last.tx_id, id: last.id } };
};

/**
 * One batch of what reps wrote outside texts: pending double opt-ins' evidence, then payment
 * requests' description and reference (walked by id, both uuid keyed, so one cursor serves).
 */
export const resealOptInRequests: Walk<string> = async (tx, vault, orgId, keyNo, after) => {
  const rows = await tx.query<{ id: string; evidence: string; evidence_key: number | null }>(
    `SELECT id::text AS id, evidence, evidence_key FROM consent_requests
      WHERE org_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
    [orgId, after],
  );
  const stale = rows.filter((r) => olderThan(r.evidence_key, keyNo));
  const key = await vault.keyByNo(tx, orgId, keyNo);
  for (const r of stale) {
    const text = await openRequestEvidence(tx, orgId, r.id, r.evidence, r.evidence_key);
    await tx.query('UPDATE consent_requests SET evidence = $2, evidence_key = $3 WHERE id = $1', [
      r.id,
      seal(key, text, optInRequestContext(r.id)),
      keyNo,
    ]);
  }
  return { done: stale.length, last: rows.at(-1)?.id ?? null };
};

/** One batch of the org's payment requests: description and reference under another key re-sealed. */
export const resealPayments: Walk<string> = async (tx, vault, orgId, keyNo, after) => {
  const rows = await tx.query<{
    id: string;
    description: string;
    reference: string | null;
    details_key: number | null;
  }>(
    `SELECT id::text AS id, description, reference, details_key FROM payment_requests
      WHERE org_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
    [orgId, after],
  );
  const stale = rows.filter((r) => olderThan(r.details_key, keyNo));
  const key = await vault.keyByNo(tx, orgId, keyNo);
  for (const r of stale) {
    const details = await openPaymentDetails(tx, orgId, r.id, r, r.details_key);
    const sealed = sealPaymentDetailsWith(key, r.id, details);
    await tx.query(
      'UPDATE payment_requests SET description = $2, reference = $3, details_key = $4 WHERE id = $1',
      [r.id, sealed.description, sealed.reference, keyNo],
    );
  }
  return { done: stale.length, last: rows.at(-1)?.id ?? null };
};
