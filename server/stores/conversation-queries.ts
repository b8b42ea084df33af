import type { Queryable } from '../db/database.ts';
import { phoneNumber, phoneNumberOrNull, phoneTokenOrNull } from './phone-columns.ts';

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

// Filters a scope may still need; each folds away at planning when its parameter is null.
const BY_PHONE = '($2::text IS NULL OR c.contact_phone = $2)';
const BY_USER = `($6::uuid IS NULL OR EXISTS (
          SELECT 1 FROM conversation_participants q WHERE q.user_id = $6 AND q.conversation_id = c.id))`;

/** Where a page starts reading, and the columns (of an index in list order) it is keyed on. */
interface Scope {
  from: string;
  at: string;
  id: string;
}

/**
 * The row source of each filter, each driven by an index in list order: one CRM record's contacts
 * then each contact's conversations; one user's conversations (conversation_participants); the
 * org's, or one phone's. Fixed SQL chosen by which filters are set, never built from input.
 */
const SCOPES = {
  crm: {
    from: `FROM contacts k JOIN conversations c ON c.contact_id = k.id
        WHERE k.org_id = $1 AND k.crm = $3 AND k.crm_id = $4 AND ($5::text IS NULL OR k.crm_object = $5)
          AND c.org_id = $1 AND ${BY_PHONE} AND ${BY_USER}`,
    at: 'c.last_message_at',
    id: 'c.id',
  },
  user: {
    from: `FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
        WHERE p.user_id = $6::uuid AND c.org_id = $1 AND ${BY_PHONE} AND $3::text IS NULL
          AND $4::text IS NULL AND $5::text IS NULL`,
    at: 'p.last_message_at',
    id: 'p.conversation_id',
  },
  org: {
    from: `FROM conversations c WHERE c.org_id = $1 AND ${BY_PHONE} AND ${BY_USER}
          AND $3::text IS NULL AND $4::text IS NULL AND $5::text IS NULL`,
    at: 'c.last_message_at',
    id: 'c.id',
  },
} as const satisfies Record<string, Scope>;

function scopeOf(f: ConversationFilter): Scope {
  if (f.crm !== null) return SCOPES.crm;
  // By phone the phone's index is the narrower; "mine" is then a probe per conversation of it.
  if (f.sentBy !== null && f.phone === null) return SCOPES.user;
  return SCOPES.org;
}

/**
 * One page of an org's conversations matching the filter, most recent activity first, ties and
 * never-active ones (null last_message_at, last) by id. The page is two index ranges: rows with
 * activity at or before the cursor's, then rows without activity. Each branch reads its index
 * in order and stops at the limit, so no page sorts more than twice its own size.
 */
export async function listConversations(
  db: Queryable,
  orgId: string,
  f: ConversationFilter,
): Promise<ConversationRow[]> {
  const { from, at, id } = scopeOf(f);
  // The first page starts before every timestamp; a cursor on a never-active row skips branch one.
  const pastActive = f.after !== null && f.after.lastMessageAt === null;
  const rows = await db.query<ConversationRow>(
    `SELECT ${COLUMNS}
       FROM (
         (SELECT c.* ${from}
             AND NOT $9::boolean AND ${at} <= $7::timestamptz AND (${at} < $7::timestamptz OR ${id} > $8::uuid)
           ORDER BY ${at} DESC NULLS LAST, ${id} LIMIT $10)
         UNION ALL
         (SELECT c.* ${from}
             AND ${at} IS NULL AND (NOT $9::boolean OR ${id} > $8::uuid)
           ORDER BY ${id} LIMIT $10)
       ) c
       JOIN sender_numbers n ON n.id = c.sender_number_id
       LEFT JOIN contacts ct ON ct.id = c.contact_id
      ORDER BY c.last_message_at DESC NULLS LAST, c.id
      LIMIT $10`,
    [
      orgId,
      phoneTokenOrNull(db, f.phone),
      f.crm,
      f.crmId,
      f.objectType,
      f.sentBy,
      f.after?.lastMessageAt ?? 'infinity',
      f.after?.id ?? '00000000-0000-0000-0000-000000000000',
      pastActive,
      f.limit,
    ],
  );
  return rows.map((r) => ({ ...r, contact_phone: phoneNumber(db, r.contact_phone) }));
}

/** The customer's number of one conversation, or null when there is no such conversation. */
export async function conversationPhone(db: Queryable, conversationId: string): Promise<string | null> {
  const rows = await db.query<{ contact_phone: string }>(
    'SELECT contact_phone FROM conversations WHERE id = $1',
    [conversationId],
  );
  return phoneNumberOrNull(db, rows[0]?.contact_phone);
}
