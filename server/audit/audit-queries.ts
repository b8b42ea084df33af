import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { csvCell } from '../lib/csv.ts';
import type { AuditRow as Row } from './audit-verify.ts';

/** The filters an auditor may narrow the log by, checked before anything reaches the database. */
export interface AuditFilter {
  from: Date | null;
  to: Date | null;
  actor: string | null;
  action: string | null;
}

/** One entry as the API gives it. */
export interface AuditEntryDto {
  seq: number;
  actor: string;
  actorName: string;
  action: string;
  target: { type: string; id: string } | null;
  occurredAt: string;
  before: unknown;
  after: unknown;
  detail: unknown;
  ip: string | null;
  prevHash: string;
  hash: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$/;
const ACTOR = /^(user:[0-9a-f-]{36}|api-key:[0-9a-f-]{36}|[a-z][a-z_-]{0,39})$/i;

function invalid(field: string, message: string): ApiError {
  return new ApiError(400, 'INVALID_FILTER', message, { field });
}

function instant(field: 'from' | 'to', raw: string | undefined): Date | null {
  if (raw === undefined || raw === '') return null;
  const at = new Date(raw);
  const year = at.getUTCFullYear();
  if (!ISO_INSTANT.test(raw) || Number.isNaN(at.getTime()) || year < 1 || year > 9999)
    throw invalid(field, `${field} must be an ISO 8601 instant such as 2026-12-01T00:00:00Z.`);
  return at;
}

/** The filters from the query string, or 400 INVALID_FILTER naming the bad one. */
export function parseAuditFilter(q: {
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
}): AuditFilter {
  const from = instant('from', q.from);
  const to = instant('to', q.to);
  if (from !== null && to !== null && from >= to) throw invalid('to', 'to must be later than from.');
  const actor = q.actor === undefined || q.actor === '' ? null : q.actor;
  if (actor !== null && !ACTOR.test(actor))
    throw invalid('actor', 'actor must be user:<id>, api-key:<id>, cli or system.');
  const action = q.action === undefined || q.action === '' ? null : q.action;
  if (action !== null && (action.length > 100 || !ACTION.test(action)))
    throw invalid(
      'action',
      'action must be a dotted name such as user.role_changed, or a prefix such as auth.',
    );
  return { from, to, actor, action };
}

/** The opaque cursor: base64url of the last sequence number the page gave. */
export function encodeAuditCursor(seq: number): string {
  return Buffer.from(`audit:${seq}`, 'utf8').toString('base64url');
}

export function decodeAuditCursor(raw: string): number {
  const m = /^audit:(\d{1,15})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (m === null) throw new ApiError(400, 'INVALID_CURSOR', 'The cursor is not one this API returned.');
  return Number(m[1]);
}

function whereOf(orgId: string, f: AuditFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [orgId, f.from, f.to, f.actor];
  let actionSql = 'TRUE';
  if (f.action !== null) {
    params.push(f.action.endsWith('.') ? `${f.action}%` : f.action);
    // A prefix ends in a dot; the other LIKE metacharacter, _, is escaped so it matches itself.
    params[4] = String(params[4]).replace(/_/g, '\\_');
    actionSql = 'action LIKE $5';
  }
  return {
    sql: `org_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at < $3)
          AND ($4::text IS NULL OR actor = $4) AND ${actionSql}`,
    params,
  };
}

/** One page of the org's log, newest first, keyed on the sequence number. */
export async function auditPage(
  db: Queryable,
  orgId: string,
  f: AuditFilter,
  page: { before: number | null; limit: number },
): Promise<{ entries: AuditEntryDto[]; nextCursor: string | null }> {
  const where = whereOf(orgId, f);
  const n = where.params.length;
  const rows = await db.query<Row>(
    `SELECT * FROM audit_log WHERE ${where.sql} AND ($${n + 1}::bigint IS NULL OR seq < $${n + 1})
      ORDER BY seq DESC LIMIT $${n + 2}`,
    [...where.params, page.before, page.limit + 1],
  );
  const entries = rows.slice(0, page.limit).map(toDto);
  const last = entries[entries.length - 1];
  return {
    entries,
    nextCursor: rows.length > page.limit && last !== undefined ? encodeAuditCursor(last.seq) : null,
  };
}

/** Every matching entry, oldest first, read a page at a time (the export streams these). */
export async function* auditEntries(
  db: Queryable,
  orgId: string,
  f: AuditFilter,
): AsyncGenerator<AuditEntryDto> {
  const where = whereOf(orgId, f);
  const n = where.params.length;
  let after = 0;
  for (;;) {
    const rows = await db.query<Row>(
      `SELECT * FROM audit_log WHERE ${where.sql} AND seq > $${n + 1} ORDER BY seq LIMIT 500`,
      [...where.params, after],
    );
    for (const r of rows) yield toDto(r);
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < 500) return;
    after = Number(last.seq);
  }
}

function toDto(r: Row): AuditEntryDto {
  return {
    seq: Number(r.seq),
    actor: r.actor,
    actorName: r.actor_name,
    action: r.action,
    target: r.target_type === null || r.target_id === null ? null : { type: r.target_type, id: r.target_id },
    occurredAt: new Date(r.occurred_at).toISOString(),
    before: r.before ?? null,
    after: r.after ?? null,
    detail: r.detail ?? {},
    ip: r.ip,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const CSV_COLUMNS = [
  'seq',
  'occurredAt',
  'actor',
  'actorName',
  'action',
  'targetType',
  'targetId',
  'before',
  'after',
  'detail',
  'ip',
  'prevHash',
  'hash',
] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

export function csvLine(e: AuditEntryDto): string {
  const json = (v: unknown) => (v === null ? '' : JSON.stringify(v));
  const cells = [
    String(e.seq),
    e.occurredAt,
    e.actor,
    e.actorName,
    e.action,
    e.target?.type ?? '',
    e.target?.id ?? '',
    json(e.before),
    json(e.after),
    json(e.detail),
    e.ip ?? '',
    e.prevHash,
    e.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The export's body, oldest first: a CSV header and rows, or one JSON object per line. */
export async function* exportLines(
  db: Queryable,
  orgId: string,
  f: AuditFilter,
  format: 'csv' | 'jsonl',
): AsyncGenerator<string> {
  if (format === 'csv') yield CSV_HEADER;
  for await (const e of auditEntries(db, orgId, f))
    yield format === 'csv' ? csvLine(e) : `${JSON.stringify(e)}\n`;
}
