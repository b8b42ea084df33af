import type { Queryable } from '../db/database.ts';
import { HOLD_LOCK_SQL } from './legal-holds.ts';

/*
 * The SQL of one retention purge. Every query takes $1 = org id and $2 = a cutoff instant of the
 * relay's clock, compared with messages.created_at (written from the same clock).
 *
 * A message is purgeable when it is older than the cutoff, finished (no send still pending: a
 * scheduled text keeps its body until it leaves), under no active legal hold (of its conversation
 * or of the conversation's contact phone), and cited by no consent record, consent review, consent
 * request or compliance exception: those are the evidence the consent ledger points at, which
 * this job never purges (the ledger keeps it at least the five years TCPA disputes need).
 */

const FINISHED = `m.status IN ('sent', 'delivered', 'undelivered', 'failed', 'received', 'cancelled')`;

const HELD = `EXISTS (SELECT 1 FROM legal_holds h
                       WHERE h.org_id = m.org_id AND h.released_at IS NULL
                         AND (h.conversation_id = m.conversation_id OR h.phone_e164 = v.contact_phone))`;

const EVIDENCE = `(EXISTS (SELECT 1 FROM consent_events ce WHERE ce.message_id = m.id)
   OR EXISTS (SELECT 1 FROM consent_reviews cr WHERE cr.message_id = m.id)
   OR EXISTS (SELECT 1 FROM consent_requests q WHERE q.request_message_id = m.id OR q.confirmed_message_id = m.id)
   OR EXISTS (SELECT 1 FROM compliance_exceptions x WHERE x.message_id = m.id))`;

const AGED = `FROM messages m JOIN conversations v ON v.id = m.conversation_id
               WHERE m.org_id = $1 AND m.created_at < $2 AND ${FINISHED}`;

/** Messages whose body may be blanked. */
const BODY_CANDIDATES = `${AGED} AND m.body_purged_at IS NULL AND NOT ${HELD} AND NOT ${EVIDENCE}`;
/** Messages that may be deleted with their status history, outbox job and live events. */
const DELETE_CANDIDATES = `${AGED} AND NOT ${HELD} AND NOT ${EVIDENCE}`;

/** Opens a purge batch: status-history deletes are allowed, and holds wait until it commits. */
export async function beginPurgeBatch(tx: Queryable, orgId: string): Promise<void> {
  await tx.query(`SELECT set_config('relay.retention_purge', 'on', true)`);
  await tx.query(`SELECT pg_advisory_xact_lock_shared(${HOLD_LOCK_SQL})`, [orgId]);
}

/**
 * Up to `limit` messages to delete, locked; rows a send or callback holds are left for the next run.
 * TODO(#18): page by (created_at, id) keyset: each batch re-walks the index entries of rows deleted
 * before it until vacuum clears them, so 1M rows in one run slow down (measured: 200k in 23 s).
 */
export async function pickDeletions(
  tx: Queryable,
  orgId: string,
  cutoff: Date,
  limit: number,
): Promise<Array<{ id: string; conversation_id: string }>> {
  return tx.query(
    `SELECT m.id, m.conversation_id ${DELETE_CANDIDATES}
      ORDER BY m.created_at LIMIT $3 FOR UPDATE OF m SKIP LOCKED`,
    [orgId, cutoff, limit],
  );
}

/** Deletes these messages and what hangs off them, children first; returns the row counts. */
export async function deleteMessages(
  tx: Queryable,
  orgId: string,
  picked: Array<{ id: string; conversation_id: string }>,
): Promise<{ events: number; statusEvents: number; outboxJobs: number; messages: number }> {
  const ids = picked.map((p) => p.id);
  const conversations = [...new Set(picked.map((p) => p.conversation_id))];
  const events = await tx.query(
    `DELETE FROM events WHERE org_id = $1 AND conversation_id = ANY($2::uuid[])
        AND payload->'message'->>'id' = ANY($3::text[]) RETURNING 1`,
    [orgId, conversations, ids],
  );
  const statusEvents = await tx.query(
    'DELETE FROM message_status_events WHERE message_id = ANY($1::uuid[]) RETURNING 1',
    [ids],
  );
  const outboxJobs = await tx.query(
    'DELETE FROM outbox_jobs WHERE message_id = ANY($1::uuid[]) RETURNING 1',
    [ids],
  );
  const messages = await tx.query(
    'DELETE FROM messages WHERE org_id = $1 AND id = ANY($2::uuid[]) RETURNING 1',
    [orgId, ids],
  );
  return {
    events: events.length,
    statusEvents: statusEvents.length,
    outboxJobs: outboxJobs.length,
    messages: messages.length,
  };
}

/** Blanks up to `limit` bodies (and their copies in the live-event log); returns the messages. */
export async function purgeBodies(
  tx: Queryable,
  orgId: string,
  cutoff: Date,
  limit: number,
  at: Date,
): Promise<string[]> {
  const picked = await tx.query<{ id: string; conversation_id: string }>(
    `SELECT m.id, m.conversation_id ${BODY_CANDIDATES}
      ORDER BY m.created_at LIMIT $3 FOR UPDATE OF m SKIP LOCKED`,
    [orgId, cutoff, limit],
  );
  if (picked.length === 0) return [];
  const ids = picked.map((p) => p.id);
  await tx.query(
    `UPDATE messages SET body = '', body_key = NULL, redactions = NULL, body_purged_at = $3 WHERE org_id = $1 AND id = ANY($2::uuid[])`,
    [orgId, ids, at],
  );
  await tx.query(
    `UPDATE events
        SET payload = jsonb_set(jsonb_set(payload, '{message,body}', '""'), '{message,redactions}', '[]')
      WHERE org_id = $1 AND conversation_id = ANY($2::uuid[]) AND payload->'message'->>'id' = ANY($3::text[])`,
    [orgId, [...new Set(picked.map((p) => p.conversation_id))], ids],
  );
  return ids;
}

/**
 * Conversations left without messages whose last activity is older than the cutoff. One that was
 * ever under a legal hold keeps its (empty) row, so the hold's history still names it; so does one
 * with a payment request (a financial record that names its conversation).
 */
const EMPTY_CONVERSATIONS = `FROM conversations c
  WHERE c.org_id = $1 AND c.last_message_at IS NOT NULL AND c.last_message_at < $2
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
    AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.conversation_id = c.id)
    AND NOT EXISTS (SELECT 1 FROM payment_requests p WHERE p.conversation_id = c.id)`;

/** Deletes up to `limit` empty, aged conversations; returns how many. */
export async function deleteEmptyConversations(
  tx: Queryable,
  orgId: string,
  cutoff: Date,
  limit: number,
): Promise<number> {
  const rows = await tx.query<{ id: string }>(
    `SELECT c.id ${EMPTY_CONVERSATIONS} ORDER BY c.last_message_at LIMIT $3 FOR UPDATE OF c SKIP LOCKED`,
    [orgId, cutoff, limit],
  );
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await tx.query('DELETE FROM conversation_participants WHERE conversation_id = ANY($1::uuid[])', [ids]);
  await tx.query('DELETE FROM inbox_unread WHERE conversation_id = ANY($1::uuid[])', [ids]);
  const deleted = await tx.query(
    'DELETE FROM conversations WHERE org_id = $1 AND id = ANY($2::uuid[]) RETURNING 1',
    [orgId, ids],
  );
  return deleted.length;
}

/** What a run would remove, counted without changing anything (the dry run). */
export async function countPurge(
  db: Queryable,
  orgId: string,
  cutoffs: { body: Date | null; metadata: Date | null },
): Promise<{
  bodies: number;
  messages: number;
  statusEvents: number;
  outboxJobs: number;
  conversations: number;
}> {
  const count = async (sql: string, cutoff: Date | null, extra: unknown[] = []): Promise<number> => {
    if (cutoff === null) return 0;
    const [row] = await db.query<{ n: number }>(sql, [orgId, cutoff, ...extra]);
    return row?.n ?? 0;
  };
  const { body, metadata } = cutoffs;
  const doomed = `SELECT m.id ${DELETE_CANDIDATES}`;
  const survives = `m.created_at >= $3`;
  return {
    messages: await count(`SELECT count(*)::int AS n ${DELETE_CANDIDATES}`, metadata),
    // Bodies of messages the metadata period deletes anyway are counted as deletions only.
    bodies: await count(
      `SELECT count(*)::int AS n ${BODY_CANDIDATES}${metadata === null ? '' : ` AND ${survives}`}`,
      body,
      metadata === null ? [] : [metadata],
    ),
    statusEvents: await count(
      `SELECT count(*)::int AS n FROM message_status_events s WHERE s.message_id IN (${doomed})`,
      metadata,
    ),
    outboxJobs: await count(
      `SELECT count(*)::int AS n FROM outbox_jobs o WHERE o.message_id IN (${doomed})`,
      metadata,
    ),
    conversations: await count(
      `SELECT count(*)::int AS n FROM conversations c
        WHERE c.org_id = $1 AND c.last_message_at IS NOT NULL AND c.last_message_at < $2
          AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.conversation_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM payment_requests p WHERE p.conversation_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                            AND m.id NOT IN (${doomed}))`,
      metadata,
    ),
  };
}

/** Messages the policy would reach but a legal hold (or consent evidence) keeps, counted per run. */
export async function countKept(
  db: Queryable,
  orgId: string,
  cutoffs: { body: Date | null; metadata: Date | null },
): Promise<{ held: number; evidence: number }> {
  const widest = cutoffs.body ?? cutoffs.metadata;
  if (widest === null) return { held: 0, evidence: 0 };
  // Reached: a body still there older than the body cutoff, or anything older than the metadata one.
  const [row] = await db.query<{ held: number; evidence: number }>(
    `SELECT count(*) FILTER (WHERE ${HELD})::int AS held,
            count(*) FILTER (WHERE NOT ${HELD} AND ${EVIDENCE})::int AS evidence
       ${AGED} AND (m.body_purged_at IS NULL OR ($3::timestamptz IS NOT NULL AND m.created_at < $3))`,
    [orgId, widest, cutoffs.metadata],
  );
  return { held: row?.held ?? 0, evidence: row?.evidence ?? 0 };
}
