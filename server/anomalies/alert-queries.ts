import { appendAudit } from '../audit/audit-log.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { afterPageCursor, nextPageCursor } from '../http/page-cursor.ts';
import type { AlertMetric } from './bucket-counts.ts';

interface AlertRow {
  id: string;
  subject: string;
  user_id: string | null;
  rep_name: string | null;
  metric: AlertMetric;
  detail: { device?: unknown; country?: unknown } | null;
  bucket_start: Date;
  observed: number;
  expected: number;
  deviation: number;
  paused: boolean;
  created_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
  cursor_at: string;
}

const ALERT_SELECT = `SELECT a.id, a.subject, a.user_id, coalesce(u.display_name, u.email) AS rep_name, a.metric,
       a.bucket_start, a.observed, a.expected, a.deviation, a.paused, a.created_at, a.resolved_at, a.resolved_by,
       a.resolution_note, a.detail, a.created_at::text AS cursor_at
  FROM anomaly_alerts a LEFT JOIN users u ON u.id = a.user_id`;

export function alertDto(row: AlertRow) {
  return {
    id: row.id,
    subject: row.user_id === null ? ('org' as const) : ('rep' as const),
    rep: row.user_id === null ? null : { userId: row.user_id, name: row.rep_name },
    metric: row.metric,
    device: typeof row.detail?.device === 'string' ? row.detail.device : null,
    country: typeof row.detail?.country === 'string' ? row.detail.country : null,
    hourStart: new Date(row.bucket_start).toISOString(),
    observed: Number(row.observed),
    expected: Math.round(Number(row.expected) * 10) / 10,
    deviation: Math.round(Number(row.deviation) * 10) / 10,
    paused: row.paused,
    createdAt: new Date(row.created_at).toISOString(),
    resolvedAt: row.resolved_at === null ? null : new Date(row.resolved_at).toISOString(),
    resolvedBy: row.resolved_by,
    resolutionNote: row.resolution_note,
  };
}

/** The org's alerts, newest first: open ones only unless asked for all. */
export async function listAlerts(
  db: Queryable,
  orgId: string,
  q: { open: boolean; cursor: string | null; limit: number },
): Promise<{ alerts: ReturnType<typeof alertDto>[]; nextCursor: string | null }> {
  const [afterAt, afterId] = afterPageCursor(q.cursor);
  const rows = await db.query<AlertRow>(
    `${ALERT_SELECT}
      WHERE a.org_id = $1 AND (NOT $2::boolean OR a.resolved_at IS NULL)
        AND ($3::timestamptz IS NULL OR (a.created_at, a.id) < ($3::timestamptz, $4::uuid))
      ORDER BY a.created_at DESC, a.id DESC LIMIT $5`,
    [orgId, q.open, afterAt, afterId, q.limit + 1],
  );
  return { alerts: rows.slice(0, q.limit).map(alertDto), nextCursor: nextPageCursor(rows, q.limit) };
}

/**
 * Resolves an alert of the org, with who and why; the rep it paused may send again unless
 * `resume` is false. Refused with ALERT_NOT_FOUND or ALERT_ALREADY_RESOLVED; a refusal changes nothing.
 */
export async function resolveAlert(
  db: Database,
  input: {
    orgId: string;
    alertId: string;
    actor: string;
    note: string | null;
    resume: boolean;
    at: Date;
    ip?: string;
  },
): Promise<ReturnType<typeof alertDto>> {
  const resolved = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ user_id: string | null; paused: boolean; resolved_at: Date | null }>(
      'SELECT user_id, paused, resolved_at FROM anomaly_alerts WHERE id = $1 AND org_id = $2 FOR UPDATE',
      [input.alertId, input.orgId],
    );
    if (row === undefined) return 'missing' as const;
    if (row.resolved_at !== null) return 'done' as const;
    await tx.query(
      `UPDATE anomaly_alerts SET resolved_at = $2, resolved_by = $3, resolution_note = $4 WHERE id = $1`,
      [input.alertId, input.at, input.actor, input.note],
    );
    const resumed =
      row.paused && input.resume && row.user_id !== null
        ? (
            await tx.query(
              `UPDATE users SET sending_paused_at = NULL, sending_paused_by = NULL
                WHERE id = $1 AND sending_paused_by = $2 RETURNING id`,
              [row.user_id, input.alertId],
            )
          ).length > 0
        : false;
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'anomaly.alert_resolved',
      target: { type: 'anomaly_alert', id: input.alertId },
      at: input.at,
      ip: input.ip,
      detail: { note: input.note, resumedSending: resumed },
    });
    return 'resolved' as const;
  });
  if (resolved === 'missing')
    throw new ApiError(404, 'ALERT_NOT_FOUND', 'No such alert in your organisation.');
  if (resolved === 'done')
    throw new ApiError(409, 'ALERT_ALREADY_RESOLVED', 'This alert was already resolved.');
  const [row] = await db.query<AlertRow>(`${ALERT_SELECT} WHERE a.id = $1`, [input.alertId]);
  if (row === undefined) throw new Error('a resolved alert vanished');
  return alertDto(row);
}
