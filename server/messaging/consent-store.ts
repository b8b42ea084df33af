import { type ConsentEvent, type DerivedConsent, deriveConsent } from '../compliance/consent.ts';
import type { Queryable } from '../db/database.ts';
import { updateStatus } from './messages.ts';

export interface ConsentRecord {
  id: number;
  kind: 'opt_in' | 'opt_out';
  source: string;
  scope: string;
  evidence: string;
  messageId: string | null;
  actor: string;
  occurredAt: string;
}

interface ConsentRow {
  id: number;
  kind: 'opt_in' | 'opt_out';
  source: string;
  scope: string;
  evidence: string;
  message_id: string | null;
  actor: string;
  occurred_at: Date;
}

/** Reads the latest consent event for (org, phone) and derives the current status. */
export async function currentConsent(db: Queryable, orgId: string, phone: string): Promise<DerivedConsent> {
  const rows = await db.query<ConsentRow>(
    `SELECT kind, source, occurred_at FROM consent_events
      WHERE org_id = $1 AND phone_e164 = $2 ORDER BY id DESC LIMIT 1`,
    [orgId, phone],
  );
  const events: ConsentEvent[] = rows.map((r) => ({
    kind: r.kind,
    source: r.source,
    occurredAt: r.occurred_at,
  }));
  return deriveConsent(events);
}

export async function consentHistory(db: Queryable, orgId: string, phone: string): Promise<ConsentRecord[]> {
  const rows = await db.query<ConsentRow>(
    `SELECT id, kind, source, scope, evidence, message_id, actor, occurred_at FROM consent_events
      WHERE org_id = $1 AND phone_e164 = $2 ORDER BY id DESC LIMIT 200`,
    [orgId, phone],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    source: r.source,
    scope: r.scope,
    evidence: r.evidence,
    messageId: r.message_id,
    actor: r.actor,
    occurredAt: r.occurred_at.toISOString(),
  }));
}

/** Appends one event to the ledger; the ledger is never updated or deleted. */
export async function recordConsent(
  db: Queryable,
  input: {
    orgId: string;
    phone: string;
    kind: 'opt_in' | 'opt_out';
    source: string;
    evidence: string;
    actor: string;
    messageId?: string | null;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO consent_events (org_id, phone_e164, kind, source, evidence, actor, message_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      input.orgId,
      input.phone,
      input.kind,
      input.source,
      input.evidence,
      input.actor,
      input.messageId ?? null,
    ],
  );
}

/**
 * Opt-out confirmations (not failed) to this number since its latest opt-out, optionally only
 * those created before a given message, so the earliest of several queued ones is the one sent.
 */
export async function confirmationsSinceOptOut(
  db: Queryable,
  orgId: string,
  phone: string,
  before?: { createdAt: Date; id: string },
): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages
      WHERE org_id = $1 AND to_e164 = $2 AND purpose = 'opt_out_confirmation' AND status <> 'failed'
        AND created_at >= (SELECT max(occurred_at) FROM consent_events
                            WHERE org_id = $1 AND phone_e164 = $2 AND kind = 'opt_out')
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))`,
    [orgId, phone, before?.createdAt ?? null, before?.id ?? null],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Makes an opt-out effective for messages already queued: they fail now, visibly, in the
 * transaction that records the opt-out (the worker re-checks consent at send time as well).
 */
export async function failQueuedAfterOptOut(tx: Queryable, orgId: string, phone: string): Promise<number> {
  const pending = await tx.query<{ message_id: string }>(
    `UPDATE outbox_jobs j SET state = 'failed', last_error = 'OPTED_OUT', updated_at = now()
       FROM messages m
      WHERE m.id = j.message_id AND j.state = 'queued' AND m.org_id = $1 AND m.to_e164 = $2
        AND m.purpose <> 'opt_out_confirmation'
    RETURNING j.message_id`,
    [orgId, phone],
  );
  for (const job of pending) {
    await updateStatus(tx, job.message_id, {
      status: 'failed',
      errorCode: 'OPTED_OUT',
      errorMessage: 'Not sent: the recipient opted out before it left.',
    });
  }
  return pending.length;
}
