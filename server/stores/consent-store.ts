import { appendAudit } from '../audit/audit-log.ts';
import { type ConsentEvent, type DerivedConsent, deriveConsent } from '../compliance/consent.ts';
import type { Database, Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { maskPhone } from '../phone.ts';
import { nextConsentEventId, openEvidence, sealEvidence } from './consent-evidence.ts';
import { openBody } from './message-bodies.ts';
import { updateStatus } from './messages.ts';
import { closeOptInRequest } from './opt-in-requests.ts';
import { phoneNumber, phoneToken } from './phone-columns.ts';

export interface ConsentRecord {
  id: number;
  kind: 'opt_in' | 'opt_out';
  source: string;
  scope: string;
  evidence: string;
  messageId: string | null;
  actor: string;
  /** Who the actor is to people: the user's name or email, the API key's label, "the customer". */
  actorName: string;
  /** The classifier rule or reviewer decision that read the evidence as this kind, if any. */
  classification: string | null;
  occurredAt: string;
}

interface ConsentRow {
  id: number;
  kind: 'opt_in' | 'opt_out';
  source: string;
  scope: string;
  evidence: string;
  evidence_key?: number | null;
  message_id: string | null;
  actor: string;
  classification: string | null;
  occurred_at: Date;
}

/** Reads the latest consent event for (org, phone) and derives the current status. */
export async function currentConsent(db: Queryable, orgId: string, phone: string): Promise<DerivedConsent> {
  const rows = await db.query<ConsentRow>(
    `SELECT kind, source, occurred_at FROM consent_events
      WHERE org_id = $1 AND phone_e164 = $2 ORDER BY id DESC LIMIT 1`,
    [orgId, phoneToken(db, phone)],
  );
  const events: ConsentEvent[] = rows.map((r) => ({
    kind: r.kind,
    source: r.source,
    occurredAt: r.occurred_at,
  }));
  return deriveConsent(events);
}

/**
 * How people see an audit actor: the name the query found (a user's display name or email, the
 * label of an API key or of its user), else words for the actors that are no account.
 */
export function actorName(actor: string, found: string | null): string {
  if (found !== null && found.trim() !== '') return found;
  if (actor === 'customer') return 'the customer';
  if (actor === 'cli') return 'an operator (command line)';
  if (actor.startsWith('api-key:')) return `an unnamed API key (${actor.slice(8, 16)})`;
  if (actor.startsWith('user:')) return `a removed user (${actor.slice(5, 13)})`;
  return actor;
}

export async function consentHistory(db: Queryable, orgId: string, phone: string): Promise<ConsentRecord[]> {
  // A key bound to a person is named by the person; an integration's key by its label.
  const rows = await db.query<ConsentRow & { actor_name: string | null }>(
    `SELECT e.id, e.kind, e.source, e.scope, e.evidence, e.evidence_key, e.message_id, e.actor, e.classification, e.occurred_at,
            COALESCE(NULLIF(u.display_name, ''), u.email, NULLIF(ku.display_name, ''), ku.email, k.name) AS actor_name
       FROM consent_events e
       LEFT JOIN users u ON e.actor LIKE 'user:%' AND u.org_id = e.org_id AND u.id::text = substr(e.actor, 6)
       LEFT JOIN api_keys k ON e.actor LIKE 'api-key:%' AND k.org_id = e.org_id AND k.id::text = substr(e.actor, 9)
       LEFT JOIN users ku ON ku.id = k.user_id
      WHERE e.org_id = $1 AND e.phone_e164 = $2 ORDER BY e.id DESC LIMIT 200`,
    [orgId, phoneToken(db, phone)],
  );
  const records: ConsentRecord[] = [];
  for (const r of rows)
    records.push({
      id: r.id,
      kind: r.kind,
      source: r.source,
      scope: r.scope,
      evidence: await openEvidence(db, orgId, r.id, r.evidence, r.evidence_key),
      messageId: r.message_id,
      actor: r.actor,
      actorName: actorName(r.actor, r.actor_name),
      classification: r.classification,
      occurredAt: r.occurred_at.toISOString(),
    });
  return records;
}

/**
 * Appends one event to the ledger; the ledger is never updated or deleted. An opt-in also fails
 * opt-out confirmations still queued from the opt-out it ends: left queued, one would leave after
 * a later STOP next to that STOP's own confirmation (two confirmations for one opt-out).
 */
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
    /** The classifier rule (or reviewer decision) that read the evidence as this kind. */
    classification?: string | null;
    /** When it happened, by the relay's clock: consent windows are judged against it. */
    at: Date;
  },
): Promise<void> {
  const id = await nextConsentEventId(db);
  const sealed = await sealEvidence(db, input.orgId, id, input.evidence);
  const [row] = await db.query<{ id: number | string }>(
    `INSERT INTO consent_events (id, org_id, phone_e164, kind, source, evidence, evidence_key, actor, message_id,
                                 classification, occurred_at)
     VALUES ($10, $1, $2, $3, $4, $5, $11, $6, $7, $8, $9) RETURNING id`,
    [
      input.orgId,
      phoneToken(db, input.phone),
      input.kind,
      input.source,
      sealed.evidence,
      input.actor,
      input.messageId ?? null,
      input.classification ?? null,
      input.at,
      id,
      sealed.evidenceKey,
    ],
  );
  // In the audit log too, in the same transaction; the number masked (auditors reveal numbers
  // on the record), the evidence left in the ledger where consent.view reads it.
  await appendAudit(db, {
    orgId: input.orgId,
    actor: input.actor,
    action: 'consent.recorded',
    target: { type: 'consent_event', id: String(row?.id) },
    at: input.at,
    detail: {
      kind: input.kind,
      source: input.source,
      phone: maskPhone(input.phone),
      messageId: input.messageId ?? null,
    },
  });
  if (input.kind === 'opt_in') await failStaleConfirmations(db, input.orgId, input.phone);
}

async function failStaleConfirmations(tx: Queryable, orgId: string, phone: string): Promise<void> {
  await failQueuedTo(tx, orgId, phone, {
    confirmations: true,
    code: 'SUPERSEDED',
    message: 'Not sent: the customer opted in again before the confirmation left.',
  });
}

/**
 * Fails the texts still queued to one phone, visibly, in the caller's transaction: the opt-out
 * confirmations, or every other text.
 */
async function failQueuedTo(
  tx: Queryable,
  orgId: string,
  phone: string,
  which: { confirmations: boolean; code: string; message: string },
): Promise<number> {
  const failed = await tx.query<{ message_id: string }>(
    // By the job's own destination (index outbox_jobs_queued_destination, migration 053), not by
    // the org's messages: this runs in the org's consent lock, for every opt-in and opt-out.
    `UPDATE outbox_jobs j SET state = 'failed', last_error = $4, updated_at = now()
       FROM messages m
      WHERE j.org_id = $1 AND j.to_e164 = $2 AND j.state = 'queued' AND m.id = j.message_id
        AND (m.purpose = 'opt_out_confirmation') = $3
    RETURNING j.message_id`,
    [orgId, phoneToken(tx, phone), which.confirmations, which.code],
  );
  for (const job of failed) {
    await updateStatus(tx, job.message_id, {
      status: 'failed',
      errorCode: which.code,
      errorMessage: which.message,
    });
  }
  return failed.length;
}

/** A flagged inbound text waiting for (or decided by) a person. */
export interface ConsentReview {
  id: string;
  phone: string;
  messageId: string;
  /** The stored (redacted) text that was flagged. */
  text: string;
  reason: string;
  status: 'open' | 'opted_out' | 'kept';
  decidedBy: string | null;
  note: string | null;
  createdAt: string;
  decidedAt: string | null;
}

interface ReviewRow {
  id: string;
  org_id: string;
  phone_e164: string;
  message_id: string;
  body: string;
  body_key: number | null;
  reason: string;
  status: 'open' | 'opted_out' | 'kept';
  decided_by: string | null;
  note: string | null;
  created_at: Date;
  decided_at: Date | null;
}

const REVIEW_COLUMNS = `r.id, r.org_id, r.phone_e164, r.message_id, m.body, m.body_key, r.reason, r.status, r.decided_by, r.note,
  r.created_at, r.decided_at`;

async function toReview(q: Queryable, r: ReviewRow): Promise<ConsentReview> {
  return {
    id: r.id,
    phone: phoneNumber(q, r.phone_e164),
    messageId: r.message_id,
    text: await openBody(q, r.org_id, r.message_id, r.body, r.body_key),
    reason: r.reason,
    status: r.status,
    decidedBy: r.decided_by,
    note: r.note,
    createdAt: r.created_at.toISOString(),
    decidedAt: r.decided_at?.toISOString() ?? null,
  };
}

/**
 * Pauses conversation texts to (org, phone) until a person decides whether the text was an
 * opt-out. A second unclear text while one review is open adds nothing: the pause already holds.
 * Answers the new review's id, or null when one was already open.
 */
export async function openReview(
  tx: Queryable,
  input: { orgId: string; phone: string; messageId: string; reason: string; at: Date },
): Promise<string | null> {
  const [opened] = await tx.query<{ id: string }>(
    `INSERT INTO consent_reviews (id, org_id, phone_e164, message_id, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (org_id, phone_e164) WHERE status = 'open' DO NOTHING
     RETURNING id::text AS id`,
    [newId(), input.orgId, phoneToken(tx, input.phone), input.messageId, input.reason, input.at],
  );
  return opened?.id ?? null;
}

export async function listReviews(
  db: Queryable,
  orgId: string,
  status: 'open' | 'decided' | 'all',
  limit: number,
): Promise<ConsentReview[]> {
  const rows = await db.query<ReviewRow>(
    `SELECT ${REVIEW_COLUMNS} FROM consent_reviews r JOIN messages m ON m.id = r.message_id
      WHERE r.org_id = $1
        AND ($2::text = 'all' OR ($2::text = 'open') = (r.status = 'open'))
      ORDER BY r.created_at DESC, r.id LIMIT $3`,
    [orgId, status, limit],
  );
  const reviews: ConsentReview[] = [];
  for (const row of rows) reviews.push(await toReview(db, row));
  return reviews;
}

export async function getReview(db: Queryable, orgId: string, id: string): Promise<ConsentReview | null> {
  const rows = await db.query<ReviewRow>(
    `SELECT ${REVIEW_COLUMNS} FROM consent_reviews r JOIN messages m ON m.id = r.message_id
      WHERE r.org_id = $1 AND r.id = $2`,
    [orgId, id],
  );
  const row = rows[0];
  return row === undefined ? null : toReview(db, row);
}

export type ReviewDecisionResult =
  | { kind: 'decided'; review: ConsentReview }
  | { kind: 'not_found' }
  | { kind: 'already_decided'; review: ConsentReview };

/**
 * A reviewer's decision on a flagged text. `opt_out` appends an opt-out to the ledger (actor and
 * flagged text as evidence) and fails what is queued; `keep` only lifts the pause. Either way the
 * review closes, in one transaction under the (org, phone) consent lock.
 */
export async function decideReview(db: Database, input: ReviewDecisionInput): Promise<ReviewDecisionResult> {
  return db.transaction((tx) => decideReviewIn(tx, input));
}

export interface ReviewDecisionInput {
  orgId: string;
  id: string;
  decision: 'opt_out' | 'keep';
  actor: string;
  note: string | null;
  /** The relay's clock: the opt-out's instant in the ledger. */
  at: Date;
}

/** decideReview in the caller's transaction (the review queue decides an unclear reply's item with it). */
export async function decideReviewIn(
  tx: Queryable,
  input: ReviewDecisionInput,
): Promise<ReviewDecisionResult> {
  const review = await getReview(tx, input.orgId, input.id);
  if (review === null) return { kind: 'not_found' };
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${input.orgId}:${review.phone}`]);
  const closed = await tx.query(
    `UPDATE consent_reviews SET status = $3, decided_by = $4, note = $5, decided_at = now()
      WHERE org_id = $1 AND id = $2 AND status = 'open' RETURNING id`,
    [input.orgId, input.id, input.decision === 'opt_out' ? 'opted_out' : 'kept', input.actor, input.note],
  );
  if (closed.length === 0) {
    // The same decision again (a retry) answers like the first; a different one is a conflict.
    const same = review.status === (input.decision === 'opt_out' ? 'opted_out' : 'kept');
    return same ? { kind: 'decided', review } : { kind: 'already_decided', review };
  }
  // The review queue's item for this reply is decided with it (042_review_queue.sql).
  await tx.query(
    `UPDATE review_items SET status = 'closed', decision = $3, note = coalesce(note, $4), decided_by = $5,
            decided_at = $6
      WHERE org_id = $1 AND kind = 'unclear_reply' AND source_id = $2 AND status <> 'closed'`,
    [
      input.orgId,
      input.id,
      input.decision === 'opt_out' ? 'opt_out' : 'ok',
      input.note,
      input.actor,
      input.at,
    ],
  );
  if (input.decision === 'opt_out') {
    await recordConsent(tx, {
      orgId: input.orgId,
      phone: review.phone,
      kind: 'opt_out',
      source: 'review',
      evidence: review.text,
      actor: input.actor,
      messageId: review.messageId,
      classification: `reviewer read "${review.reason}" as an opt-out${input.note === null ? '' : `: ${input.note}`}`,
      at: input.at,
    });
    await failQueuedAfterOptOut(tx, input.orgId, review.phone);
    await closeOptInRequest(tx, input.orgId, review.phone, { status: 'superseded' });
  }
  const decided = await getReview(tx, input.orgId, input.id);
  if (decided === null) throw new Error('review vanished');
  return { kind: 'decided', review: decided };
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
    [orgId, phoneToken(db, phone), before?.createdAt ?? null, before?.id ?? null],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Makes an opt-out effective for messages already queued: they fail now, visibly, in the
 * transaction that records the opt-out (the worker re-checks consent at send time as well).
 */
export async function failQueuedAfterOptOut(tx: Queryable, orgId: string, phone: string): Promise<number> {
  return failQueuedTo(tx, orgId, phone, {
    confirmations: false,
    code: 'OPTED_OUT',
    message: 'Not sent: the recipient opted out before it left.',
  });
}
