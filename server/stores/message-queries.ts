import { appendAudit } from '../audit/audit-log.ts';
import { type Queryable, withinTransaction } from '../db/database.ts';
import { flagForReview } from '../review/review-items.ts';
import { openBodies } from './message-bodies.ts';
import { MESSAGE_COLUMNS, type MessageRow } from './messages.ts';

/**
 * The reply-window exception a send in quiet hours went out under, kept for the compliance record
 * and, as a quiet-hours override by policy, in the org's audit log under the sender's name.
 */
export async function recordQuietHoursException(
  db: Queryable,
  input: {
    orgId: string;
    messageId: string;
    actor: string;
    exception: { policy: string; lastInboundAt: string; windowMinutes: number };
    at: Date;
  },
): Promise<void> {
  await withinTransaction(db, async (tx) => {
    await tx.query(
      `INSERT INTO compliance_exceptions (org_id, message_id, policy, detail, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [input.orgId, input.messageId, input.exception.policy, JSON.stringify(input.exception), input.at],
    );
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'compliance.quiet_hours_exception',
      target: { type: 'message', id: input.messageId },
      at: input.at,
      detail: input.exception,
    });
    await flagForReview(tx, {
      orgId: input.orgId,
      kind: 'override',
      reason: `quiet hours exception (${input.exception.policy})`,
      dedupeKey: `quiet:${input.messageId}`,
      messageId: input.messageId,
      actor: input.actor,
      userId: input.actor.startsWith('user:') ? input.actor.slice('user:'.length) : null,
      at: input.at,
    });
  });
}

/** Every status the provider reported for a message, oldest first. */
export async function statusHistory(
  db: Queryable,
  messageId: string,
): Promise<{ status: string; errorCode: string | null; detail: string | null; at: string }[]> {
  const rows = await db.query<{
    status: string;
    error_code: string | null;
    detail: string | null;
    occurred_at: Date;
  }>(
    'SELECT status, error_code, detail, occurred_at FROM message_status_events WHERE message_id = $1 ORDER BY id',
    [messageId],
  );
  return rows.map((h) => ({
    status: h.status,
    errorCode: h.error_code,
    detail: h.detail,
    at: h.occurred_at.toISOString(),
  }));
}

/**
 * Up to `limit` messages of a conversation older than the cursor, newest first; created_at
 * travels as Postgres text (`created_text`) so the microseconds survive the round trip.
 */
export async function conversationMessages(
  db: Queryable,
  conversationId: string,
  cursor: { createdAt: string; id: string } | null,
  limit: number,
): Promise<(MessageRow & { created_text: string })[]> {
  const rows = await db.query<MessageRow & { created_text: string }>(
    `SELECT ${MESSAGE_COLUMNS}, m.created_at::text AS created_text FROM messages m
      WHERE m.conversation_id = $1
        AND ($2::timestamptz IS NULL OR (m.created_at, m.id) < ($2::timestamptz, $3::uuid))
      ORDER BY m.created_at DESC, m.id DESC
      LIMIT $4`,
    [conversationId, cursor?.createdAt ?? null, cursor?.id ?? null, limit],
  );
  return openBodies(db, rows);
}
