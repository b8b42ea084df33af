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
  /** last_message_at as PostgreSQL prints it, full precision, for the next page's cursor. */
  last_message_text: string | null;
}

/** Where a page of the list stopped: the last row's activity (null sorts last) and id. */
export interface ListPosition {
  lastMessageAt: string | null;
  id: string;
}

/** Filters of the conversation list; null leaves a filter out. */
export interface ConversationFilter {
  phone: string | null;
  crm: string | null;
  crmId: string | null;
  objectType: string | null;
  /** Only conversations this user has sent a message in. */
  sentBy: string | null;
  /** Resume after this row; null for the first page. */
  after: ListPosition | null;
  limit: number;
}

const COLUMNS = `c.id, n.e164 AS sender_e164, c.contact_phone, ct.crm, ct.crm_object, ct.crm_id,
       c.last_message_at, c.last_message_at::text AS last_message_text`;

// The filters that narrow a scope; each is folded away at planning when its parameter is null.
const FILTERS = `($2::text IS NULL OR c.contact_phone = $2)
        AND ($3::text IS NULL OR c.contact_id IN (
              SELECT k.id FROM contacts k
               WHERE k.org_id = $1 AND k.crm = $3 AND k.crm_id = $4 AND ($5::text IS NULL OR k.crm_object = $5)))`;

/**
 * Two kinds of scope, each with an index in list order: the org's conversations (or one phone's,
 * or one CRM record's), and one user's (conversation_participants). Fixed SQL, no user input.
 */
const SCOPES = {
  // $6 (the user) is null in this scope; it is named so that both scopes take the same parameters.
  org: 'FROM conversations c WHERE c.org_id = $1 AND $6::uuid IS NULL',
  user: `FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
        WHERE p.user_id = $6::uuid AND c.org_id = $1`,
} as const;

/**
 * One page of an org's conversations matching the filter, most recent activity first, ties and
 * never-active ones (null last_message_at, last) by id. The page is two index ranges: rows with
 * activity at or before the cursor's, then rows without activity. Each branch reads the index
 * in order and stops at the limit, so no page sorts more than twice its own size.
 */
export async function listConversations(
  db: Queryable,
  orgId: string,
  f: ConversationFilter,
): Promise<ConversationRow[]> {
  const scope = f.sentBy === null ? SCOPES.org : SCOPES.user;
  // The first page starts before every timestamp; a cursor on a never-active row skips branch one.
  const pastActive = f.after !== null && f.after.lastMessageAt === null;
  const at = f.after?.lastMessageAt ?? 'infinity';
  const id = f.after?.id ?? '00000000-0000-0000-0000-000000000000';
  return db.query<ConversationRow>(
    `SELECT ${COLUMNS}
       FROM (
         (SELECT c.* ${scope} AND ${FILTERS}
             AND NOT $9::boolean AND c.last_message_at <= $7::timestamptz
             AND (c.last_message_at < $7::timestamptz OR c.id > $8::uuid)
           ORDER BY c.last_message_at DESC NULLS LAST, c.id LIMIT $10)
         UNION ALL
         (SELECT c.* ${scope} AND ${FILTERS}
             AND c.last_message_at IS NULL AND (NOT $9::boolean OR c.id > $8::uuid)
           ORDER BY c.id LIMIT $10)
       ) c
       JOIN sender_numbers n ON n.id = c.sender_number_id
       LEFT JOIN contacts ct ON ct.id = c.contact_id
      ORDER BY c.last_message_at DESC NULLS LAST, c.id
      LIMIT $10`,
    [orgId, f.phone, f.crm, f.crmId, f.objectType, f.sentBy, at, id, pastActive, f.limit],
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
