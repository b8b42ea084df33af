import type { Queryable } from '../db/database.ts';
import { flagForReview } from '../review/review-items.ts';
import { phoneToken } from '../stores/phone-columns.ts';
import type { RedactedText } from '../stores/redaction.ts';

/* What a customer's text settles or raises for reviewers (042_review_queue.sql). */

/** The customer settled an unclear reply themselves (STOP, START): its review and queue item close. */
export async function closeOpenReview(
  tx: Queryable,
  orgId: string,
  phone: string,
  status: 'opted_out' | 'kept',
  note: string,
  at: Date,
): Promise<void> {
  // The review queue's item for the unclear reply closes with it (042_review_queue.sql).
  await tx.query(
    `WITH closed AS (
       UPDATE consent_reviews SET status = $3, decided_by = 'customer', note = $4, decided_at = now()
        WHERE org_id = $1 AND phone_e164 = $2 AND status = 'open' RETURNING id::text AS id)
     UPDATE review_items SET status = 'closed', decision = $5, note = $4, decided_by = 'customer', decided_at = $6
      WHERE org_id = $1 AND kind = 'unclear_reply' AND status <> 'closed' AND source_id IN (SELECT id FROM closed)`,
    [orgId, phoneToken(tx, phone), status, note, status === 'opted_out' ? 'opt_out' : 'ok', at],
  );
}

/** A card or similar number removed from a customer's text is worth a reviewer's look. */
export async function flagRedaction(
  tx: Queryable,
  c: {
    orgId: string;
    conversationId: string;
    messageId: string;
    from: string;
    redacted: RedactedText;
    now: Date;
  },
): Promise<void> {
  const kinds = [...new Set(c.redacted.redactions.map((r) => r.kind))];
  await flagForReview(tx, {
    orgId: c.orgId,
    kind: 'redaction',
    reason: `${kinds.join(', ')} number removed from the customer's text`,
    dedupeKey: `message:${c.messageId}`,
    conversationId: c.conversationId,
    messageId: c.messageId,
    phone: c.from,
    actor: 'customer',
    at: c.now,
  });
}
