import type { Queryable } from '../db/database.ts';
import type { Period } from './report-queries.ts';

/** What happened on one UTC day: texts each way, their delivery, and consent changes. */
export interface ActivityDay {
  day: string;
  outbound: number;
  inbound: number;
  delivered: number;
  failed: number;
  /** delivered ÷ (delivered + failed); null on a day with no final delivery report. */
  deliveryRate: number | null;
  optIns: number;
  optOuts: number;
}

/**
 * Every UTC day of the period, oldest first, days without activity included as zeros, so a chart
 * of it has no gaps that read as a missing day's figures. Texts count on the day they were written,
 * consent changes on the day they happened.
 */
export async function dailyActivity(db: Queryable, orgId: string, period: Period): Promise<ActivityDay[]> {
  const rows = await db.query<{ day: string; kind: string; n: number }>(
    `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, kind, count(*)::int AS n FROM (
        SELECT m.created_at AS at, m.direction AS kind FROM messages m
         WHERE m.org_id = $1 AND m.created_at >= $2 AND m.created_at < $3
        UNION ALL
        SELECT m.created_at, CASE WHEN m.status = 'delivered' THEN 'delivered' ELSE 'failed' END
          FROM messages m
         WHERE m.org_id = $1 AND m.direction = 'outbound'
           AND m.status IN ('delivered', 'undelivered', 'failed')
           AND m.created_at >= $2 AND m.created_at < $3
        UNION ALL
        SELECT e.occurred_at, e.kind FROM consent_events e
         WHERE e.org_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
      ) x GROUP BY 1, 2`,
    [orgId, period.from, period.to],
  );
  const days = new Map(utcDays(period).map((day) => [day, emptyDay(day)]));
  for (const r of rows) {
    const day = days.get(r.day);
    if (day === undefined) continue;
    if (r.kind === 'opt_in') day.optIns += r.n;
    else if (r.kind === 'opt_out') day.optOuts += r.n;
    else if (r.kind === 'outbound' || r.kind === 'inbound' || r.kind === 'delivered' || r.kind === 'failed')
      day[r.kind] += r.n;
  }
  for (const day of days.values())
    day.deliveryRate = day.delivered + day.failed === 0 ? null : day.delivered / (day.delivered + day.failed);
  return [...days.values()];
}

function emptyDay(day: string): ActivityDay {
  return { day, outbound: 0, inbound: 0, delivered: 0, failed: 0, deliveryRate: null, optIns: 0, optOuts: 0 };
}

/** The UTC dates the period touches, [from, to). */
export function utcDays(period: Period): string[] {
  const out: string[] = [];
  const first = Date.UTC(period.from.getUTCFullYear(), period.from.getUTCMonth(), period.from.getUTCDate());
  for (let t = first; t < period.to.getTime(); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
