import type { Queryable } from '../db/database.ts';

/** Columns whose change, without a status change, still rewrites the CRM entry. */
const WRITTEN_FIELDS = ['conversation_id', 'refunded_minor'] as const;

/**
 * Queues the write-back of a payment request to every CRM connection of its org whose contact is
 * linked (a contact row tied to a record of that CRM, or a number the sync already matched to one),
 * in the caller's transaction: the change and its job commit together, so a CRM outage loses
 * nothing. One job waits per connection and request; it writes the request as it is when it runs.
 */
export async function queuePaymentWriteBack(
  tx: Queryable,
  request: { id: string; org_id: string; conversation_id: string | null },
  change: { statusChanged: boolean; fields: Record<string, unknown> },
): Promise<void> {
  if (request.conversation_id === null) return;
  // What the CRM entry shows: the status, and besides it the amount refunded so far; the request
  // also gets its first entry when its text went out (it gets its conversation then).
  const shown = WRITTEN_FIELDS.some((field) => change.fields[field] !== undefined);
  if (!change.statusChanged && !shown) return;
  await tx.query(
    `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject)
     SELECT k.id, k.org_id, 'payment', $2
       FROM crm_connections k
       JOIN conversations v ON v.id = $3 AND v.org_id = k.org_id
       LEFT JOIN contacts c ON c.id = v.contact_id AND c.org_id = k.org_id
      WHERE k.org_id = $1 AND k.status <> 'disconnected'
        AND ((c.crm = k.crm AND c.crm_id IS NOT NULL)
             OR EXISTS (SELECT 1 FROM crm_contact_links l
                         WHERE l.connection_id = k.id AND l.phone_e164 = v.contact_phone AND l.ref_id <> ''))
     ON CONFLICT (connection_id, subject) WHERE kind = 'payment' AND state = 'queued' DO NOTHING`,
    [request.org_id, request.id, request.conversation_id],
  );
}
