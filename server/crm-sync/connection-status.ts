import type { CrmId, CrmPlugin } from '../../crm-plugins/types.ts';
import type { Database } from '../db/database.ts';
import { type BackfillCheckpoint, type CrmConnection, getConnection } from './connections.ts';
import { countDeadLetters } from './dead-letters.ts';

// `crm status` and GET /v1/admin/crm/status: each CRM connection's health, sync queue, dead letters and watermarks.

interface ConnectionStatusRow {
  id: string;
  org_id: string;
  crm: CrmId;
  status: string;
  status_detail: string | null;
  event_cursor_tx: number;
  event_cursor_id: number;
  consent_cursor_tx: number;
  consent_cursor_id: number;
  crm_watermark: string | null;
  next_poll_at: Date;
  paused_until: Date | null;
  backfill_checkpoint: BackfillCheckpoint | null;
}

/** One connection as `crm status` reports it. */
export interface CrmConnectionStatus {
  connectionId: string;
  orgId: string;
  crm: CrmId;
  status: string;
  statusDetail: string | null;
  health: { ok: boolean; detail: string };
  queue: Record<string, number>;
  queueDepth: number;
  deadLetters: number;
  watermarks: { events: string; consent: string; crmConsent: string | null; nextCrmPoll: string };
  pausedUntil: string | null;
  backfill: BackfillCheckpoint | null;
}

type PluginOf = (db: Database, connection: CrmConnection) => Promise<CrmPlugin>;

/** Every connection (or one organisation's), with its health checked against the CRM. */
export async function crmConnectionStatuses(
  db: Database,
  orgId: string | null,
  pluginOf: PluginOf,
): Promise<CrmConnectionStatus[]> {
  const rows = await db.query<ConnectionStatusRow>(
    `SELECT id, org_id, crm, status, status_detail, event_cursor_tx, event_cursor_id, consent_cursor_tx,
            consent_cursor_id, crm_watermark, next_poll_at, backfill_checkpoint,
            -- The sync queue's back-off is the database clock's (server/clock.ts).
            CASE WHEN paused_until > now() THEN paused_until END AS paused_until
       FROM crm_connections WHERE ($1::text IS NULL OR org_id::text = $1) ORDER BY created_at`,
    [orgId],
  );
  const connections: CrmConnectionStatus[] = [];
  for (const row of rows) connections.push(await statusOf(db, row, pluginOf));
  return connections;
}

/** A connection's health: what the CRM answers to the plugin's health check, or why it could not. */
async function healthOf(
  db: Database,
  row: ConnectionStatusRow,
  pluginOf: PluginOf,
): Promise<{ ok: boolean; detail: string }> {
  if (row.status === 'disconnected') return { ok: false, detail: 'disconnected' };
  try {
    const connection = await getConnection(db, row.org_id, row.crm);
    return await (await pluginOf(db, connection)).healthCheck();
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function statusOf(
  db: Database,
  row: ConnectionStatusRow,
  pluginOf: PluginOf,
): Promise<CrmConnectionStatus> {
  const queue = await db.query<{ kind: string; state: string; n: number }>(
    `SELECT kind, state, count(*)::int AS n FROM crm_sync_jobs
      WHERE connection_id = $1 AND state IN ('queued', 'working') GROUP BY 1, 2 ORDER BY 1, 2`,
    [row.id],
  );
  const health = await healthOf(db, row, pluginOf);
  const sentinel = (id: number) => (id >= Number.MAX_SAFE_INTEGER ? 'start' : String(id));
  return {
    connectionId: row.id,
    orgId: row.org_id,
    crm: row.crm,
    status: row.status,
    statusDetail: row.status_detail,
    health,
    queue: Object.fromEntries(queue.map((q) => [`${q.kind}.${q.state}`, q.n])),
    queueDepth: queue.reduce((a, q) => a + q.n, 0),
    deadLetters: await countDeadLetters(db, row.id),
    watermarks: {
      events: `${row.event_cursor_tx}_${sentinel(row.event_cursor_id)}`,
      consent: `${row.consent_cursor_tx}_${sentinel(row.consent_cursor_id)}`,
      crmConsent: row.crm_watermark,
      nextCrmPoll: row.next_poll_at.toISOString(),
    },
    pausedUntil: row.paused_until?.toISOString() ?? null,
    backfill: row.backfill_checkpoint,
  };
}

/** The statuses as the text `crm status` prints. */
export function crmStatusText(connections: CrmConnectionStatus[]): string {
  if (connections.length === 0) return 'No CRM connected.';
  return connections
    .map((c) =>
      [
        `${c.crm} for org ${c.orgId}: ${c.status}${c.statusDetail === null ? '' : ` (${c.statusDetail})`}`,
        `  health: ${c.health.ok ? 'ok' : 'NOT OK'} — ${c.health.detail}`,
        `  queue: ${c.queueDepth} waiting ${JSON.stringify(c.queue)}; dead letters: ${c.deadLetters}`,
        `  watermarks: events ${c.watermarks.events}, consent ${c.watermarks.consent}, CRM ${c.watermarks.crmConsent ?? 'none yet'}`,
        ...(c.pausedUntil === null ? [] : [`  paused until ${c.pausedUntil} (rate limit)`]),
        ...(c.backfill === null
          ? []
          : [
              `  backfill: ${c.backfill.queued} queued${c.backfill.done ? ', done' : ', unfinished (re-run to resume)'}`,
            ]),
      ].join('\n'),
    )
    .join('\n');
}
