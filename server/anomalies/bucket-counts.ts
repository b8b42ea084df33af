import type { Queryable } from '../db/database.ts';

export const METRICS = ['outbound', 'new_recipients', 'opt_outs', 'carrier_errors'] as const;
export type Metric = (typeof METRICS)[number];
/** What an alert is about: an hour's count, or a sign-in from a new device (anomalies/new-device.ts). */
export type AlertMetric = Metric | 'new_device' | 'new_country';

/** One hour's counts per subject ('org', or 'user:<id>' for a rep) and metric. */
export type BucketCounts = Map<string, Partial<Record<Metric, number>>>;

/**
 * What an org did in [from, to): outbound texts, texts to a conversation never texted before (new
 * recipients) and carrier errors, per rep and for the org; opt-outs for the org (a customer opts
 * out of the organisation, not of one rep). Read from the org's messages by their creation time
 * (the relay's clock) through messages_org_age.
 */
export async function bucketCounts(
  db: Queryable,
  orgId: string,
  from: Date,
  to: Date,
): Promise<BucketCounts> {
  const rows = await db.query<{
    user_id: string | null;
    outbound: number;
    new_recipients: number;
    carrier_errors: number;
  }>(
    `SELECT m.sent_by_user_id::text AS user_id, count(*)::int AS outbound,
            count(DISTINCT m.conversation_id) FILTER (WHERE NOT EXISTS (
              SELECT 1 FROM messages p WHERE p.conversation_id = m.conversation_id AND p.direction = 'outbound'
                 AND p.created_at < $2))::int AS new_recipients,
            count(*) FILTER (WHERE m.status IN ('failed', 'undelivered'))::int AS carrier_errors
       FROM messages m
      WHERE m.org_id = $1 AND m.created_at >= $2 AND m.created_at < $3 AND m.direction = 'outbound'
        AND m.purpose = 'conversation'
      GROUP BY m.sent_by_user_id`,
    [orgId, from, to],
  );
  const [optOuts] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM consent_events
      WHERE org_id = $1 AND kind = 'opt_out' AND occurred_at >= $2 AND occurred_at < $3`,
    [orgId, from, to],
  );
  const counts: BucketCounts = new Map([['org', { opt_outs: optOuts?.n ?? 0 }]]);
  const add = (subject: string, metric: Metric, n: number) => {
    const entry = counts.get(subject) ?? {};
    entry[metric] = (entry[metric] ?? 0) + n;
    counts.set(subject, entry);
  };
  for (const row of rows) {
    for (const metric of ['outbound', 'new_recipients', 'carrier_errors'] as const) {
      add('org', metric, row[metric]);
      if (row.user_id !== null) add(`user:${row.user_id}`, metric, row[metric]);
    }
  }
  return counts;
}
