import { vaultOf } from '../crypto/vault.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { EVENTS_CHANNEL } from '../live/events.ts';
import { insertOutbound } from './messages.ts';
import { phoneToken } from './phone-columns.ts';

/**
 * Double opt-in's pending requests: a rep's opt-in waits here for the customer's YES. The rep's
 * evidence is sealed under the org's data key, bound to its request (045_sealed_details.sql);
 * `evidence_key` NULL means it is in clear (written before sealing).
 */

/** What a pending request's sealed evidence is bound to. */
export const optInRequestContext = (requestId: string): string => `consent_request:${requestId}`;

/** A request's evidence as written: opened when sealed. */
export async function openRequestEvidence(
  q: Queryable,
  orgId: string,
  requestId: string,
  evidence: string,
  evidenceKey: number | null,
): Promise<string> {
  if (evidenceKey === null) return evidence;
  return vaultOf(q).open(q, orgId, optInRequestContext(requestId), evidence, evidenceKey);
}

/** A rep-recorded opt-in waiting for the customer's YES (double opt-in). */
export interface PendingOptIn {
  id: string;
  source: string;
  evidence: string;
  actor: string;
  createdAt: Date;
}

export async function pendingOptIn(
  db: Queryable,
  orgId: string,
  phone: string,
): Promise<PendingOptIn | null> {
  const rows = await db.query<{
    id: string;
    source: string;
    evidence: string;
    evidence_key: number | null;
    actor: string;
    created_at: Date;
  }>(
    `SELECT id, source, evidence, evidence_key, actor, created_at FROM consent_requests
      WHERE org_id = $1 AND phone_e164 = $2 AND status = 'pending'`,
    [orgId, phoneToken(db, phone)],
  );
  const row = rows[0];
  if (row === undefined) return null;
  const evidence = await openRequestEvidence(db, orgId, row.id, row.evidence, row.evidence_key);
  return { id: row.id, source: row.source, evidence, actor: row.actor, createdAt: row.created_at };
}

/**
 * Double opt-in, first half: keeps the rep's opt-in as pending and queues the one "reply YES"
 * question to the customer (from the number they last talked to, else the org's first number).
 * A second request while one is pending replaces its evidence but asks nothing again.
 * Returns false when the org has no sender number to ask from.
 */
export async function requestOptIn(
  tx: Queryable,
  input: {
    orgId: string;
    phone: string;
    source: string;
    evidence: string;
    actor: string;
    question: string;
    /** The SMS provider's name, as every outbound message records it. */
    provider: string;
    /** The relay's clock: the question's and the request's instant. */
    now: Date;
  },
): Promise<boolean> {
  const existing = await pendingOptIn(tx, input.orgId, input.phone);
  if (existing !== null) {
    await tx.query(
      `UPDATE consent_requests SET status = 'superseded', decided_at = now() WHERE id = $1 AND status = 'pending'`,
      [existing.id],
    );
  }
  const senders = await tx.query<{ id: string; e164: string }>(
    `SELECT n.id, n.e164 FROM sender_numbers n
       LEFT JOIN conversations v ON v.sender_number_id = n.id AND v.org_id = n.org_id AND v.contact_phone = $2
      WHERE n.org_id = $1
      ORDER BY v.last_message_at DESC NULLS LAST, n.created_at, n.id LIMIT 1`,
    [input.orgId, phoneToken(tx, input.phone)],
  );
  const sender = senders[0];
  if (sender === undefined) return false;
  let requestMessageId: string | null = null;
  if (existing === null) {
    // NOTIFY is delivered at commit, so the worker wakes once this transaction is durable.
    await tx.query(`SELECT pg_notify('outbox', ''), pg_notify('${EVENTS_CHANNEL}', '')`);
    const message = await insertOutbound(tx, {
      orgId: input.orgId,
      senderNumberId: sender.id,
      from: sender.e164,
      to: input.phone,
      body: input.question,
      purpose: 'opt_in_request',
      provider: input.provider,
      now: input.now,
    });
    requestMessageId = message?.id ?? null;
  }
  const id = newId();
  const evidence = await vaultOf(tx).seal(tx, input.orgId, optInRequestContext(id), input.evidence);
  await tx.query(
    `INSERT INTO consent_requests (id, org_id, phone_e164, source, evidence, evidence_key, actor, request_message_id,
       created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      id,
      input.orgId,
      phoneToken(tx, input.phone),
      input.source,
      evidence.sealed,
      evidence.keyNo,
      input.actor,
      requestMessageId,
      input.now,
    ],
  );
  return true;
}

/** Closes the pending request of (org, phone): confirmed by the customer's reply, or superseded. */
export async function closeOptInRequest(
  tx: Queryable,
  orgId: string,
  phone: string,
  outcome: { status: 'confirmed'; messageId: string } | { status: 'superseded' },
): Promise<void> {
  await tx.query(
    `UPDATE consent_requests SET status = $3, confirmed_message_id = $4, decided_at = now()
      WHERE org_id = $1 AND phone_e164 = $2 AND status = 'pending'`,
    [orgId, phoneToken(tx, phone), outcome.status, outcome.status === 'confirmed' ? outcome.messageId : null],
  );
}
