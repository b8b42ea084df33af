import { vaultOf } from '../crypto/vault.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { decodeListCursor, encodeListCursor, type ListCursor } from '../http/page-cursor.ts';
import { openBody } from '../stores/message-bodies.ts';
import { phoneNumber } from '../stores/phone-columns.ts';

export type InboxFilter = 'mine' | 'unassigned' | 'all';

/** One inbox row as the database gives it (the route masks and shapes it). */
export interface InboxRow {
  id: string;
  sender_e164: string;
  contact_phone: string;
  contact_name: string | null;
  crm: string | null;
  crm_object: string | null;
  crm_id: string | null;
  last_direction: 'inbound' | 'outbound' | null;
  last_body: string | null;
  last_id: string | null;
  last_body_key: number | null;
  last_at: Date | null;
  consent_kind: 'opt_in' | 'opt_out' | null;
  consent_source: string | null;
  consent_at: Date | null;
  assignee_id: string | null;
  assignee_name: string | null;
  unread: boolean;
  /** The key this row was read in order by, full precision, for the next page's cursor. */
  position: string | null;
}

/** What one inbox page asks for. */
export interface InboxQuery {
  orgId: string;
  /** The caller: whose unread state and, for "mine", whose conversations. */
  userId: string;
  filter: InboxFilter;
  /** Words of the contact's name; or digits of the number when `searchNumbers`. */
  search: string | null;
  searchNumbers: boolean;
  limit: number;
  cursor: string | null;
}

/** Each row's columns: its thread, contact, last text, consent, assignee and the caller's read state. */
const COLUMNS = `c.id::text AS id, n.e164 AS sender_e164, c.contact_phone,
       ct.display_name AS contact_name, ct.crm, ct.crm_object, ct.crm_id,
       last.direction AS last_direction, last.body AS last_body, last.id::text AS last_id,
       last.body_key AS last_body_key, last.created_at AS last_at,
       consent.kind AS consent_kind, consent.source AS consent_source, consent.occurred_at AS consent_at,
       u.id::text AS assignee_id,
       coalesce(u.display_name, u.email) AS assignee_name,
       EXISTS (SELECT 1 FROM inbox_unread x WHERE x.user_id = $2 AND x.conversation_id = c.id) AS unread`;

const JOINS = `JOIN sender_numbers n ON n.id = c.sender_number_id
  LEFT JOIN contacts ct ON ct.id = c.contact_id
  LEFT JOIN users u ON u.id = c.assigned_user_id
  LEFT JOIN LATERAL (SELECT m.id, m.direction, m.body, m.body_key, m.created_at FROM messages m
                      WHERE m.conversation_id = c.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1) last ON true
  LEFT JOIN LATERAL (SELECT e.kind, e.source, e.occurred_at FROM consent_events e
                      WHERE e.org_id = c.org_id AND e.phone_e164 = c.contact_phone
                      ORDER BY e.id DESC LIMIT 1) consent ON true`;

/**
 * Name words (ILIKE) or the number's last digits ($9, their keyed hash: numbers are stored as
 * tokens, phone-tokens.ts); folds away when $3 is null.
 */
const SEARCH = `($3::text IS NULL
    OR ct.display_name ILIKE '%' || $3 || '%'
    OR ($4::boolean AND c.contact_tails @> ARRAY[$9::text]))`;

/**
 * The sections of the inbox, each read from an index in its own order and resumed after a
 * position: the caller's unread conversations (most recent reply first), then the rest of the
 * caller's (newest activity first); the unassigned queue; every conversation of the org. Fixed
 * SQL, never built from input.
 */
const SECTIONS = {
  unread: {
    from: `FROM inbox_unread r JOIN conversations c ON c.id = r.conversation_id ${JOINS}
      WHERE r.user_id = $2 AND c.org_id = $1 AND ${SEARCH}`,
    at: 'r.since',
    id: 'r.conversation_id',
    nulls: false,
  },
  mine: {
    from: `FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id ${JOINS}
      WHERE p.user_id = $2 AND c.org_id = $1 AND ${SEARCH}
        AND NOT EXISTS (SELECT 1 FROM inbox_unread y WHERE y.user_id = $2 AND y.conversation_id = c.id)`,
    at: 'p.last_message_at',
    id: 'p.conversation_id',
    nulls: true,
  },
  unassigned: {
    from: `FROM conversations c ${JOINS} WHERE c.org_id = $1 AND c.assigned_user_id IS NULL AND ${SEARCH}`,
    at: 'c.last_message_at',
    id: 'c.id',
    nulls: true,
  },
  all: {
    from: `FROM conversations c ${JOINS} WHERE c.org_id = $1 AND ${SEARCH}`,
    at: 'c.last_message_at',
    id: 'c.id',
    nulls: true,
  },
} as const;
type SectionName = keyof typeof SECTIONS;

/** The sections a filter reads, in order. */
const ORDER: Record<InboxFilter, SectionName[]> = {
  mine: ['unread', 'mine'],
  unassigned: ['unassigned'],
  all: ['all'],
};

/** Reads up to `limit` rows of one section after `after`. */
async function readSection(
  db: Queryable,
  q: InboxQuery,
  name: SectionName,
  after: ListCursor | null,
  limit: number,
): Promise<InboxRow[]> {
  const s = SECTIONS[name];
  const order = s.nulls ? `${s.at} DESC NULLS LAST, ${s.id}` : `${s.at} DESC, ${s.id}`;
  // Keyset: rows after the cursor in (at DESC NULLS LAST, id ASC) order.
  const resume = s.nulls
    ? `AND ($6::timestamptz IS NULL AND $7::boolean IS NOT TRUE OR ($6::timestamptz IS NOT NULL AND (${s.at} < $6 OR ${s.at} IS NULL OR (${s.at} = $6 AND ${s.id} > $5::uuid)))
         OR ($7::boolean AND ${s.at} IS NULL AND ${s.id} > $5::uuid))`
    : // A section whose key is never null has no use for $7, but every parameter needs a type.
      `AND ($6::timestamptz IS NULL OR ${s.at} < $6 OR (${s.at} = $6 AND ${s.id} > $5::uuid)) AND $7::boolean IS NOT NULL`;
  const rows = await db.query<InboxRow>(
    `SELECT ${COLUMNS}, ${s.at}::text AS position ${s.from} ${resume} ORDER BY ${order} LIMIT $8`,
    [
      q.orgId,
      q.userId,
      q.search,
      q.searchNumbers,
      after?.id ?? '00000000-0000-0000-0000-000000000000',
      after?.lastMessageAt ?? null,
      after !== null && after.lastMessageAt === null,
      limit,
      q.searchNumbers && q.search !== null ? vaultOf(db).phones.tailOf(q.search.slice(-10)) : null,
    ],
  );
  return rows.map((r) => ({ ...r, contact_phone: phoneNumber(db, r.contact_phone) }));
}

/** The inbox cursor: the section a page stopped in, and the position in it. */
function decodeCursor(raw: string, filter: InboxFilter): { section: SectionName; after: ListCursor } {
  const dot = raw.indexOf('.');
  const section = raw.slice(0, dot) as SectionName;
  if (dot < 1 || !ORDER[filter].includes(section))
    throw new ApiError(400, 'INVALID_CURSOR', 'This cursor is not one this inbox listing returned.');
  return { section, after: decodeListCursor(raw.slice(dot + 1)) };
}

/** One page of the inbox: the filter's sections in order, from the cursor on. */
export async function inboxPage(
  db: Queryable,
  q: InboxQuery,
): Promise<{ rows: InboxRow[]; nextCursor: string | null }> {
  const sections = ORDER[q.filter];
  const start = q.cursor === null ? null : decodeCursor(q.cursor, q.filter);
  let index = start === null ? 0 : sections.indexOf(start.section);
  let after = start?.after ?? null;
  const rows: InboxRow[] = [];
  let last: { section: SectionName; row: InboxRow } | null = null;
  while (index < sections.length && rows.length < q.limit) {
    const section = sections[index] as SectionName;
    // One more than needed tells whether this section goes on past the page.
    const found = await readSection(db, q, section, after, q.limit - rows.length + 1);
    const take = found.slice(0, q.limit - rows.length);
    rows.push(...take);
    const tail = take.at(-1);
    if (tail !== undefined) last = { section, row: tail };
    if (found.length > take.length) {
      await openLastBodies(db, q.orgId, rows);
      return { rows, nextCursor: cursorAt(section, tail as InboxRow) };
    }
    index += 1;
    after = null;
  }
  const more = index < sections.length && last !== null;
  await openLastBodies(db, q.orgId, rows);
  return { rows, nextCursor: more && last !== null ? cursorAt(last.section, last.row) : null };
}

/** Each row's last text, opened (message-bodies.ts). */
async function openLastBodies(db: Queryable, orgId: string, rows: InboxRow[]): Promise<void> {
  for (const row of rows) {
    if (row.last_body === null || row.last_id === null) continue;
    row.last_body = await openBody(db, orgId, row.last_id, row.last_body, row.last_body_key);
    row.last_body_key = null;
  }
}

const cursorAt = (section: SectionName, row: InboxRow): string =>
  `${section}.${encodeListCursor({ lastMessageAt: row.position, id: row.id })}`;

/** How many conversations the user has unread: the badge on the extension's icon. */
export async function unreadCount(db: Queryable, orgId: string, userId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM inbox_unread r JOIN conversations c ON c.id = r.conversation_id
      WHERE r.user_id = $1 AND c.org_id = $2`,
    [userId, orgId],
  );
  return row?.n ?? 0;
}
