import { appendAudit } from '../audit/audit-log.ts';
import type { Database, Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { readAnomalySettings } from './anomaly-settings.ts';
import { bucketCounts, METRICS, type Metric } from './bucket-counts.ts';

/** Sending is judged by the hour. */
export const BUCKET_MS = 3_600_000;
/** An hour is judged this long after it ends: delivery reports of its last texts have come in. */
export const GRACE_MS = 5 * 60_000;
/** Weight of the newest hour in the baseline (about the last ten hours count most). */
const ALPHA = 0.1;
/** Hours a baseline must have seen before it judges anything. */
export const WARMUP_BUCKETS = 12;
/** At most this many missed hours are caught up per org and pass (a relay that was down for days). */
const CATCH_UP = 48;
/** Below these counts an hour is never unusual, whatever the baseline: a quiet rep's 3 texts are not a spike. */
const FLOORS: Record<Metric, number> = { outbound: 30, new_recipients: 15, opt_outs: 5, carrier_errors: 5 };

export interface RaisedAlert {
  id: string;
  orgId: string;
  subject: string;
  metric: Metric;
  observed: number;
  expected: number;
  deviation: number;
  paused: boolean;
}

interface Baseline {
  mean: number;
  variance: number;
  buckets: number;
}

/** The start of the last hour that may be judged at `now`. */
export function lastJudgedBucket(now: Date): number {
  return Math.floor((now.getTime() - GRACE_MS) / BUCKET_MS) * BUCKET_MS - BUCKET_MS;
}

/**
 * Judges every org's closed hours not judged yet, in order: each hour's counts against the
 * baselines, then the baselines move (exponentially weighted mean and variance). An alert per
 * subject, metric and hour at most, and none while one about the same subject and metric is open;
 * an org-wide alert only when no rep's alert of that metric explains the hour.
 */
export async function judgeClosedHours(db: Database, now: Date): Promise<RaisedAlert[]> {
  const until = lastJudgedBucket(now);
  const orgs = await db.query<{ id: string }>('SELECT id FROM orgs ORDER BY id');
  const raised: RaisedAlert[] = [];
  for (const { id } of orgs) raised.push(...(await judgeOrg(db, id, until, now)));
  return raised;
}

async function judgeOrg(db: Database, orgId: string, until: number, now: Date): Promise<RaisedAlert[]> {
  const raised: RaisedAlert[] = [];
  const settings = await readAnomalySettings(db, orgId);
  for (let i = 0; i < CATCH_UP; i += 1) {
    const judged = await db.transaction(async (tx) => {
      // One relay judges an org's hour: the others wait here, then find it judged.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`anomaly:${orgId}`]);
      const [cursor] = await tx.query<{ last_bucket: Date }>(
        'SELECT last_bucket FROM anomaly_cursors WHERE org_id = $1',
        [orgId],
      );
      // A new org (or a new relay) starts with the last closed hour: history is not judged.
      const next = cursor === undefined ? until : new Date(cursor.last_bucket).getTime() + BUCKET_MS;
      if (next > until) return null;
      const alerts = await judgeHour(tx, orgId, new Date(next), settings, now);
      await tx.query(
        `INSERT INTO anomaly_cursors (org_id, last_bucket) VALUES ($1, $2)
         ON CONFLICT (org_id) DO UPDATE SET last_bucket = EXCLUDED.last_bucket`,
        [orgId, new Date(next)],
      );
      return alerts;
    });
    if (judged === null) break;
    raised.push(...judged);
  }
  return raised;
}

async function judgeHour(
  tx: Queryable,
  orgId: string,
  bucket: Date,
  settings: { threshold: number; pauseRep: boolean },
  now: Date,
): Promise<RaisedAlert[]> {
  const counts = await bucketCounts(tx, orgId, bucket, new Date(bucket.getTime() + BUCKET_MS));
  const baselines = await tx.query<{ subject: string; metric: Metric } & Baseline>(
    'SELECT subject, metric, mean, variance, buckets FROM anomaly_baselines WHERE org_id = $1',
    [orgId],
  );
  const known = new Map(baselines.map((b) => [`${b.subject}|${b.metric}`, b]));
  const subjects = new Set([...counts.keys(), ...baselines.map((b) => b.subject)]);
  const unusual: Omit<RaisedAlert, 'id' | 'orgId' | 'paused'>[] = [];
  for (const subject of subjects) {
    for (const metric of METRICS) {
      if (subject !== 'org' && metric === 'opt_outs') continue;
      const observed = counts.get(subject)?.[metric] ?? 0;
      const base = known.get(`${subject}|${metric}`);
      const verdict = base === undefined ? null : judge(base, observed, metric, settings.threshold);
      if (verdict !== null) unusual.push({ subject, metric, observed, ...verdict });
      await moveBaseline(tx, orgId, subject, metric, base, observed);
    }
  }
  // A rep's spike is the org's too: the org-wide alert only for what no rep explains.
  const explained = new Set(unusual.filter((u) => u.subject !== 'org').map((u) => u.metric));
  const raised: RaisedAlert[] = [];
  for (const u of unusual) {
    if (u.subject === 'org' && explained.has(u.metric)) continue;
    const alert = await raise(tx, orgId, bucket, u, settings.pauseRep, now);
    if (alert !== null) raised.push(alert);
  }
  return raised;
}

/** How far above its baseline an hour is, when that is beyond the threshold; else null. */
function judge(
  base: Baseline,
  observed: number,
  metric: Metric,
  threshold: number,
): { expected: number; deviation: number } | null {
  if (base.buckets < WARMUP_BUCKETS || observed < FLOORS[metric]) return null;
  // A count's spread is at least Poisson's (variance = mean) and never below one text.
  const sd = Math.sqrt(Math.max(base.variance, base.mean, 1));
  const deviation = (observed - base.mean) / sd;
  return deviation > threshold ? { expected: base.mean, deviation } : null;
}

async function moveBaseline(
  tx: Queryable,
  orgId: string,
  subject: string,
  metric: Metric,
  base: Baseline | undefined,
  observed: number,
): Promise<void> {
  const mean = base === undefined ? observed : base.mean + ALPHA * (observed - base.mean);
  const variance =
    base === undefined ? 0 : (1 - ALPHA) * (base.variance + ALPHA * (observed - base.mean) ** 2);
  await tx.query(
    `INSERT INTO anomaly_baselines (org_id, subject, metric, mean, variance, buckets) VALUES ($1, $2, $3, $4, $5, 1)
     ON CONFLICT (org_id, subject, metric)
     DO UPDATE SET mean = EXCLUDED.mean, variance = EXCLUDED.variance, buckets = anomaly_baselines.buckets + 1`,
    [orgId, subject, metric, mean, variance],
  );
}

async function raise(
  tx: Queryable,
  orgId: string,
  bucket: Date,
  u: Omit<RaisedAlert, 'id' | 'orgId' | 'paused'>,
  pauseRep: boolean,
  now: Date,
): Promise<RaisedAlert | null> {
  const [open] = await tx.query<{ id: string }>(
    `SELECT id FROM anomaly_alerts WHERE org_id = $1 AND subject = $2 AND metric = $3 AND resolved_at IS NULL LIMIT 1`,
    [orgId, u.subject, u.metric],
  );
  if (open !== undefined) return null;
  const id = newId();
  const userId = u.subject.startsWith('user:') ? u.subject.slice('user:'.length) : null;
  const paused = pauseRep && userId !== null;
  await tx.query(
    `INSERT INTO anomaly_alerts (id, org_id, subject, user_id, metric, bucket_start, observed, expected, deviation, paused, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [id, orgId, u.subject, userId, u.metric, bucket, u.observed, u.expected, u.deviation, paused, now],
  );
  if (paused)
    await tx.query(
      `UPDATE users SET sending_paused_at = $3, sending_paused_by = $2
        WHERE id = $1 AND sending_paused_at IS NULL`,
      [userId, id, now],
    );
  await appendAudit(tx, {
    orgId,
    actor: 'system:anomaly-alerts',
    action: 'anomaly.alert_raised',
    target: userId === null ? { type: 'org', id: orgId } : { type: 'user', id: userId },
    at: now,
    detail: {
      alertId: id,
      metric: u.metric,
      observed: u.observed,
      expected: Math.round(u.expected * 10) / 10,
      paused,
    },
  });
  return { id, orgId, ...u, paused };
}
