import type { Queryable } from '../db/database.ts';
import { openEvidence } from '../stores/consent-evidence.ts';
import { actorName } from '../stores/consent-store.ts';
import { phoneNumber } from '../stores/phone-columns.ts';

/** A report's period: [from, to), instants of the relay's clock. */
export interface Period {
  from: Date;
  to: Date;
}

/** One consent change as the opt-in / opt-out report lists it. */
export interface ConsentReportRow {
  id: number;
  occurredAt: string;
  phone: string;
  kind: 'opt_in' | 'opt_out';
  source: string;
  evidence: string;
  actor: string;
  actorName: string;
}

/**
 * The org's consent changes in the period, oldest first, `limit` at a time after the ledger id
 * `after`: who (the number), when, how (source), the evidence, and who recorded it.
 */
export async function consentReport(
  db: Queryable,
  orgId: string,
  period: Period,
  page: { after: number; limit: number },
): Promise<ConsentReportRow[]> {
  const rows = await db.query<{
    id: string;
    occurred_at: Date;
    phone_e164: string;
    kind: 'opt_in' | 'opt_out';
    source: string;
    evidence: string;
    evidence_key: number | null;
    actor: string;
    actor_name: string | null;
  }>(
    `SELECT e.id, e.occurred_at, e.phone_e164, e.kind, e.source, e.evidence, e.evidence_key, e.actor,
            COALESCE(NULLIF(u.display_name, ''), u.email, NULLIF(ku.display_name, ''), ku.email, k.name) AS actor_name
       FROM consent_events e
       LEFT JOIN users u ON e.actor LIKE 'user:%' AND u.org_id = e.org_id AND u.id::text = substr(e.actor, 6)
       LEFT JOIN api_keys k ON e.actor LIKE 'api-key:%' AND k.org_id = e.org_id AND k.id::text = substr(e.actor, 9)
       LEFT JOIN users ku ON ku.id = k.user_id
      WHERE e.org_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.id > $4
      ORDER BY e.id LIMIT $5`,
    [orgId, period.from, period.to, page.after, page.limit],
  );
  const entries = [];
  for (const r of rows)
    entries.push({
      id: Number(r.id),
      occurredAt: r.occurred_at.toISOString(),
      phone: phoneNumber(db, r.phone_e164),
      kind: r.kind,
      source: r.source,
      evidence: await openEvidence(db, orgId, r.id, r.evidence, r.evidence_key),
      actor: r.actor,
      actorName: actorName(r.actor, r.actor_name),
    });
  return entries;
}

/** Texts of one rep or one number in the period, and how many of those sent reached the phone. */
export interface VolumeRow {
  key: string;
  name: string | null;
  outbound: number;
  inbound: number;
  delivered: number;
  failed: number;
  /** delivered ÷ (delivered + failed); null before any outcome is known. */
  deliveryRate: number | null;
}

/** Message volume and delivery per rep (the sender of outbound texts) or per sender number. */
export async function messageVolume(
  db: Queryable,
  orgId: string,
  period: Period,
  by: 'rep' | 'number',
): Promise<VolumeRow[]> {
  // Inbound texts have no rep: by rep they are left out; by number they count on the number texted.
  const key =
    by === 'rep'
      ? `coalesce(m.sent_by_user_id::text, 'integration')`
      : `CASE WHEN m.direction = 'outbound' THEN m.from_e164 ELSE m.to_e164 END`;
  const rows = await db.query<{
    key: string;
    outbound: number;
    inbound: number;
    delivered: number;
    failed: number;
  }>(
    `SELECT ${key} AS key,
            count(*) FILTER (WHERE m.direction = 'outbound')::int AS outbound,
            count(*) FILTER (WHERE m.direction = 'inbound')::int AS inbound,
            count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
            count(*) FILTER (WHERE m.status IN ('undelivered', 'failed'))::int AS failed
       FROM messages m
      WHERE m.org_id = $1 AND m.created_at >= $2 AND m.created_at < $3
        AND ($4::boolean OR m.direction = 'outbound')
      GROUP BY 1 ORDER BY 1`,
    [orgId, period.from, period.to, by === 'number'],
  );
  const names = await keyNames(db, orgId, by);
  return rows.map((r) => ({
    key: r.key,
    name: names.get(r.key) ?? null,
    outbound: r.outbound,
    inbound: r.inbound,
    delivered: r.delivered,
    failed: r.failed,
    deliveryRate: r.delivered + r.failed === 0 ? null : r.delivered / (r.delivered + r.failed),
  }));
}

/** How each key of the volume report is named: a rep's display name or email, a number's label. */
async function keyNames(db: Queryable, orgId: string, by: 'rep' | 'number'): Promise<Map<string, string>> {
  const rows = await db.query<{ key: string; name: string | null }>(
    by === 'rep'
      ? `SELECT id::text AS key, coalesce(NULLIF(display_name, ''), email) AS name FROM users WHERE org_id = $1`
      : 'SELECT e164 AS key, label AS name FROM sender_numbers WHERE org_id = $1',
    [orgId],
  );
  const names = new Map(rows.filter((r) => r.name !== null).map((r) => [r.key, r.name as string]));
  if (by === 'rep') names.set('integration', 'API keys not bound to a person');
  return names;
}

/** Compliance incidents of one day (UTC). */
export interface IncidentDay {
  day: string;
  /** Inbound texts in which a card, SSN or bank number was removed. */
  redactions: number;
  optOuts: number;
  /** Replies that paused texting a number until a person decided (an unclear opt-out). */
  unclearReplies: number;
  /** Opt-outs overridden (consent.override) and texts sent in quiet hours by exception. */
  overrides: number;
}

/** Compliance incidents per UTC day of the period, days without any left out. */
export async function incidents(db: Queryable, orgId: string, period: Period): Promise<IncidentDay[]> {
  const rows = await db.query<{ day: string; kind: string; n: number }>(
    `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, kind, count(*)::int AS n FROM (
        SELECT m.created_at AS at, 'redactions' AS kind FROM messages m
         WHERE m.org_id = $1 AND m.direction = 'inbound' AND m.redactions IS NOT NULL
           AND m.created_at >= $2 AND m.created_at < $3
        UNION ALL
        SELECT e.occurred_at, 'optOuts' FROM consent_events e
         WHERE e.org_id = $1 AND e.kind = 'opt_out' AND e.occurred_at >= $2 AND e.occurred_at < $3
        UNION ALL
        SELECT m.created_at, 'unclearReplies' FROM consent_reviews r JOIN messages m ON m.id = r.message_id
         WHERE r.org_id = $1 AND m.created_at >= $2 AND m.created_at < $3
        UNION ALL
        SELECT e.occurred_at, 'overrides' FROM consent_events e
         WHERE e.org_id = $1 AND e.classification LIKE 'opt-out overridden%'
           AND e.occurred_at >= $2 AND e.occurred_at < $3
        UNION ALL
        SELECT a.occurred_at, 'overrides' FROM audit_log a
         WHERE a.org_id = $1 AND a.action = 'compliance.quiet_hours_exception'
           AND a.occurred_at >= $2 AND a.occurred_at < $3
      ) x GROUP BY 1, 2 ORDER BY 1`,
    [orgId, period.from, period.to],
  );
  const days = new Map<string, IncidentDay>();
  for (const r of rows) {
    const day = days.get(r.day) ?? { day: r.day, redactions: 0, optOuts: 0, unclearReplies: 0, overrides: 0 };
    if (
      r.kind === 'redactions' ||
      r.kind === 'optOuts' ||
      r.kind === 'unclearReplies' ||
      r.kind === 'overrides'
    )
      day[r.kind] += r.n;
    days.set(r.day, day);
  }
  return [...days.values()];
}
