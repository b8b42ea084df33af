import type { Queryable } from '../db/database.ts';
import { confinedToUser, type Principal, phoneFor } from '../http/access.ts';
import { afterPageCursor as afterCursor, nextPageCursor as nextCursorOf } from '../http/page-cursor.ts';
import { phoneNumberOrNull } from '../stores/phone-columns.ts';
import { openPaymentRows } from './payment-details.ts';
import { type HoldReason, holdWords } from './payment-guards.ts';
import type { PaymentStatus } from './payment-status.ts';
import type { PaymentRequestRow } from './payment-store.ts';

/** Newest first, one page at a time, from where the cursor stopped (created_at, id). */
export interface PageQuery {
  cursor: string | null;
  limit: number;
}

/**
 * The org's payment requests, newest first, by status and by the rep who asked. A role confined
 * to its own conversations sees the requests it made and those of conversations it takes part in.
 */
export async function listPayments(
  db: Queryable,
  p: Principal,
  q: PageQuery & { status: PaymentStatus | null; rep: string | null },
): Promise<{ rows: PaymentRequestRow[]; nextCursor: string | null }> {
  const [afterAt, afterId] = afterCursor(q.cursor);
  const rows = await db.query<PaymentRequestRow & { cursor_at: string }>(
    `SELECT r.*, r.created_at::text AS cursor_at FROM payment_requests r
      WHERE r.org_id = $1
        AND ($2::text IS NULL OR r.status = $2::text)
        AND ($3::uuid IS NULL OR r.created_by_user_id = $3::uuid)
        AND ($4::uuid IS NULL OR r.created_by_user_id = $4::uuid OR EXISTS (
              SELECT 1 FROM conversation_participants cp
               WHERE cp.user_id = $4::uuid AND cp.conversation_id = r.conversation_id))
        AND ($5::timestamptz IS NULL OR (r.created_at, r.id) < ($5::timestamptz, $6::uuid))
      ORDER BY r.created_at DESC, r.id DESC LIMIT $7`,
    [p.orgId, q.status, q.rep, confinedToUser(p), afterAt, afterId, q.limit + 1],
  );
  const page = rows.slice(0, q.limit).map(({ cursor_at: _, ...row }) => row as PaymentRequestRow);
  return { rows: await openPaymentRows(db, page), nextCursor: nextCursorOf(rows, q.limit) };
}

export interface HoldRow {
  id: string;
  reason: HoldReason;
  rep_user_id: string | null;
  rep_key_id: string | null;
  rep_name: string | null;
  phone_e164: string | null;
  request_id: string | null;
  amount_minor: string | number | null;
  currency: string | null;
  created_at: Date;
  released_at: Date | null;
  released_by: string | null;
  release_note: string | null;
  cursor_at: string;
}

const HOLD_SELECT = `SELECT h.id, h.reason, h.rep_user_id, h.rep_key_id, h.phone_e164, h.request_id, h.amount_minor,
       h.currency, h.created_at, h.released_at, h.released_by, h.release_note, h.created_at::text AS cursor_at,
       coalesce(u.display_name, u.email, k.name) AS rep_name
  FROM payment_holds h
  LEFT JOIN users u ON u.id = h.rep_user_id
  LEFT JOIN api_keys k ON k.id = h.rep_key_id`;

export function holdDto(p: Principal, row: HoldRow) {
  return {
    id: row.id,
    reason: row.reason,
    description: holdWords(row.reason),
    rep:
      row.rep_user_id === null && row.rep_key_id === null
        ? null
        : { userId: row.rep_user_id, keyId: row.rep_key_id, name: row.rep_name },
    phone: phoneFor(p, row.phone_e164),
    requestId: row.request_id,
    amountMinor: row.amount_minor === null ? null : Number(row.amount_minor),
    currency: row.currency,
    createdAt: row.created_at.toISOString(),
    releasedAt: row.released_at?.toISOString() ?? null,
    releasedBy: row.released_by,
    releaseNote: row.release_note,
  };
}

/** The org's holds, newest first: open ones only unless asked for all. */
export async function listHolds(
  db: Queryable,
  p: Principal,
  q: PageQuery & { open: boolean },
): Promise<{ holds: ReturnType<typeof holdDto>[]; nextCursor: string | null }> {
  const rows = await holdRows(db, p.orgId, q);
  return { holds: rows.slice(0, q.limit).map((r) => holdDto(p, r)), nextCursor: nextCursorOf(rows, q.limit) };
}

/** One page of an org's holds, newest first, with one row more than asked when more follow. */
export async function holdRows(
  db: Queryable,
  orgId: string,
  q: PageQuery & { open: boolean },
): Promise<HoldRow[]> {
  const [afterAt, afterId] = afterCursor(q.cursor);
  const rows = await db.query<HoldRow>(
    `${HOLD_SELECT}
      WHERE h.org_id = $1 AND (NOT $2::boolean OR h.released_at IS NULL)
        AND ($3::timestamptz IS NULL OR (h.created_at, h.id) < ($3::timestamptz, $4::uuid))
      ORDER BY h.created_at DESC, h.id DESC LIMIT $5`,
    [orgId, q.open, afterAt, afterId, q.limit + 1],
  );
  return rows.map((r) => openHold(db, r));
}

/** A hold with its customer's number opened (stored as a token, phone-tokens.ts). */
const openHold = (q: Queryable, row: HoldRow): HoldRow => ({
  ...row,
  phone_e164: phoneNumberOrNull(q, row.phone_e164),
});

/** One hold of the org, or null (another org's is never found). */
export async function holdById(db: Queryable, p: Principal, id: string): Promise<HoldRow | null> {
  const rows = await db.query<HoldRow>(`${HOLD_SELECT} WHERE h.org_id = $1 AND h.id = $2`, [p.orgId, id]);
  return rows[0] === undefined ? null : openHold(db, rows[0]);
}
