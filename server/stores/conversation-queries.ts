import type { Queryable } from '../db/database.ts';

/** A conversation as the list shows it: its sender number and the CRM record it is linked to. */
export interface ConversationRow {
  id: string;
  sender_e164: string;
  contact_phone: string;
  crm: string | null;
  crm_object: string | null;
  crm_id: string | null;
  last_message_at: Date | null;
}

/** Filters of the conversation list; null leaves a filter out. */
export interface ConversationFilter {
  phone: string | null;
  crm: string | null;
  crmId: string | null;
  objectType: string | null;
  /** Only conversations this user has sent a message in. */
  sentBy: string | null;
  limit: number;
}

/** An org's conversations matching the filter, most recent activity first. */
export async function listConversations(
  db: Queryable,
  orgId: string,
  f: ConversationFilter,
): Promise<ConversationRow[]> {
  return db.query<ConversationRow>(
    `SELECT c.id, n.e164 AS sender_e164, c.contact_phone, ct.crm, ct.crm_object, ct.crm_id, c.last_message_at
       FROM conversations c
       JOIN sender_numbers n ON n.id = c.sender_number_id
       LEFT JOIN contacts ct ON ct.id = c.contact_id
      WHERE c.org_id = $1
        AND ($2::text IS NULL OR c.contact_phone = $2)
        AND ($3::text IS NULL OR (ct.crm = $3 AND ct.crm_id = $4 AND ($5::text IS NULL OR ct.crm_object = $5)))
        AND ($7::uuid IS NULL OR EXISTS (
              SELECT 1 FROM messages m WHERE m.sent_by_user_id = $7 AND m.conversation_id = c.id))
      ORDER BY c.last_message_at DESC NULLS LAST, c.id
      LIMIT $6`,
    [orgId, f.phone, f.crm, f.crmId, f.objectType, f.limit, f.sentBy],
  );
}

/** The customer's number of one conversation, or null when there is no such conversation. */
export async function conversationPhone(db: Queryable, conversationId: string): Promise<string | null> {
  const rows = await db.query<{ contact_phone: string }>(
    'SELECT contact_phone FROM conversations WHERE id = $1',
    [conversationId],
  );
  return rows[0]?.contact_phone ?? null;
}
