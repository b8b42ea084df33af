import { ApiError } from '../errors.ts';

/** Where a page of rows ordered by (created_at, id) stopped: created_at as PostgreSQL printed it. */
export interface PageCursor {
  createdAt: string;
  id: string;
}

/**
 * created_at::text as PostgreSQL prints a timestamptz: date, time with up to six fractional
 * digits, and the session zone's offset (hours, and minutes or seconds for odd historical zones).
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** PostgreSQL refuses a zone displacement beyond ±15:59:59 (datetime.c, TZDISP_LIMIT). */
const MAX_OFFSET_HOURS = 15;

function daysIn(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; UTC so no local zone interferes.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Whether the text is a timestamp PostgreSQL accepts as it printed it: every field in range, so
 * a crafted cursor is the client's 400 here and never a database error (a 500 and a logged
 * PostgreSQL error) later.
 */
function validTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (m === null) return false;
  // Absent optional parts (fraction, offset minutes and seconds) count as 0; the sign is not a number.
  const [
    year = 0,
    month = 0,
    day = 0,
    hour = 0,
    minute = 0,
    second = 0,
    ,
    offHours = 0,
    offMinutes = 0,
    offSeconds = 0,
  ] = m.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offHours <= MAX_OFFSET_HOURS &&
    offMinutes <= 59 &&
    offSeconds <= 59
  );
}

/** The opaque cursor handed to clients: base64url of [created_at text, id]. */
export function encodePageCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), 'utf8').toString('base64url');
}

/** The [time, id] pair a cursor holds, or null when it holds anything else. */
function cursorPair(raw: string): [unknown, string] | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [at, id] = value as [unknown, unknown];
  return typeof id === 'string' && UUID.test(id) ? [at, id] : null;
}

function invalidCursor(): ApiError {
  return new ApiError(400, 'INVALID_CURSOR', 'The cursor is not one this API returned.');
}

/** A cursor this API returned, or 400 INVALID_CURSOR before anything reaches the database. */
export function decodePageCursor(raw: string): PageCursor {
  const pair = cursorPair(raw);
  if (pair !== null && typeof pair[0] === 'string' && validTimestamp(pair[0])) {
    return { createdAt: pair[0], id: pair[1] };
  }
  throw invalidCursor();
}

/** Where a page of the conversation list stopped: the last row's activity (null: never) and id. */
export interface ListCursor {
  lastMessageAt: string | null;
  id: string;
}

/**
 * The conversation list's opaque cursor: base64url of [last_message_at text or null, id]. It
 * holds a position in the list's order and nothing else, so it is valid with any filter and in any
 * org: each request still reads only its own scope from that position on.
 */
export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.lastMessageAt, cursor.id]), 'utf8').toString('base64url');
}

/** A list cursor this API returned, or 400 INVALID_CURSOR before anything reaches the database. */
export function decodeListCursor(raw: string): ListCursor {
  const pair = cursorPair(raw);
  if (pair !== null && (pair[0] === null || (typeof pair[0] === 'string' && validTimestamp(pair[0])))) {
    return { lastMessageAt: pair[0], id: pair[1] };
  }
  throw invalidCursor();
}

/** A keyset page's starting point, [createdAt, id], from its cursor (both null for the first page). */
export function afterPageCursor(cursor: string | null): [string | null, string | null] {
  if (cursor === null) return [null, null];
  const at = decodePageCursor(cursor);
  return [at.createdAt, at.id];
}

/** The next page's cursor from the rows (one more than the page when there is a next page). */
export function nextPageCursor<T extends { cursor_at: string; id: string }>(
  rows: T[],
  limit: number,
): string | null {
  const last = rows[limit - 1];
  return rows.length > limit && last !== undefined
    ? encodePageCursor({ createdAt: last.cursor_at, id: last.id })
    : null;
}
