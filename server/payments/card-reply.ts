import type { Queryable } from '../db/database.ts';
import { readPaymentSettings } from './payment-settings.ts';
import { OPEN_STATUSES } from './payment-status.ts';
import type { Payments } from './payments.ts';

/**
 * The link a card warning may carry: when the org turned `payments.cardReplyLink` on, the newest
 * request of this conversation that still takes payment at `now`. Null otherwise, so the customer
 * gets the plain warning and the rep the panel's offer to send a link.
 */
export async function cardReplyLink(
  payments: Payments,
  tx: Queryable,
  input: { orgId: string; conversationId: string; now: Date; publicUrl: string },
): Promise<string | null> {
  const settings = await readPaymentSettings(tx, input.orgId);
  if (!settings.cardReplyLink) return null;
  const [open] = await tx.query<{ id: string }>(
    `SELECT id FROM payment_requests
      WHERE org_id = $1 AND conversation_id = $2 AND status = ANY($3::text[]) AND expires_at > $4
      ORDER BY created_at DESC LIMIT 1`,
    [input.orgId, input.conversationId, OPEN_STATUSES, input.now],
  );
  return open === undefined ? null : payments.linkFor(tx, input.orgId, open.id, input.publicUrl);
}
