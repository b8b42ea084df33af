import type { Database } from '../db/database.ts';
import type { CrmConnection } from './connections.ts';
import { STATUS_SEP, type SyncJobs } from './sync-jobs.ts';

/** Rows whose transaction has committed and no older one is still open (see 005_crm_sync.sql). */
const SETTLED = `tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`;
const LOG_PAGE = 1000;
/** Messages the relay has handed over (or received): what the CRM timeline shows. */
const LOGGED_OUTBOUND = new Set(['sent', 'delivered', 'undelivered', 'failed']);
/** Outcomes that, when they arrive after the entry was logged, are written back onto it. */
const FINAL_STATUSES = new Set(['delivered', 'undelivered', 'failed']);

interface EventRow {
  id: number;
  tx_id: number;
  type: string;
  payload: unknown;
}

/**
 * Moves a connection's two cursors, over `events` and over `consent_events`, queueing the CRM
 * writes they call for: each page of rows and its cursor move commit together, so a crash
 * neither loses nor repeats a write. Messages wait `lingerMs` so one CRM call carries many.
 */
export async function feedConnection(
  db: Database,
  jobs: SyncJobs,
  connection: CrmConnection,
  lingerMs: number,
): Promise<void> {
  while ((await feedEvents(db, jobs, connection, lingerMs)) === LOG_PAGE);
  while ((await feedConsent(db, jobs, connection)) === LOG_PAGE);
}

/** One page of the event log: log jobs for messages to show, status jobs for later outcomes. */
async function feedEvents(
  db: Database,
  jobs: SyncJobs,
  connection: CrmConnection,
  lingerMs: number,
): Promise<number> {
  return db.transaction(async (tx) => {
    const [cursor] = await tx.query<{ tx: number; id: number }>(
      `SELECT event_cursor_tx AS tx, event_cursor_id AS id FROM crm_connections WHERE id = $1`,
      [connection.id],
    );
    if (cursor === undefined) return 0;
    const rows = await tx.query<EventRow>(
      `SELECT id, tx_id, type, payload FROM events
        WHERE org_id = $1 AND (tx_id, id) > ($2, $3) AND ${SETTLED}
        ORDER BY tx_id, id LIMIT ${LOG_PAGE}`,
      [connection.orgId, cursor.tx, cursor.id],
    );
    const last = rows.at(-1);
    if (last === undefined) return 0;
    const { logIds, statusSubjects } = writesOf(rows);
    await jobs.queueMessages(tx, connection, logIds, lingerMs);
    // A status job for a message not logged yet finds its log job queued and just finishes.
    await jobs.queueMessages(tx, connection, statusSubjects, lingerMs);
    await tx.query(`UPDATE crm_connections SET event_cursor_tx = $2, event_cursor_id = $3 WHERE id = $1`, [
      connection.id,
      last.tx_id,
      last.id,
    ]);
    return rows.length;
  });
}

/** The messages a page of events puts on the CRM timeline, and the final outcomes it reports. */
function writesOf(rows: EventRow[]): { logIds: string[]; statusSubjects: string[] } {
  const logIds: string[] = [];
  const statusSubjects: string[] = [];
  for (const r of rows) {
    const m = (r.payload as { message?: { id?: unknown; direction?: unknown; status?: unknown } })?.message;
    if (m === undefined || typeof m.id !== 'string') continue;
    const status = String(m.status);
    if (
      (m.direction === 'inbound' && r.type === 'message.created') ||
      (m.direction === 'outbound' && LOGGED_OUTBOUND.has(status))
    )
      logIds.push(m.id);
    if (m.direction === 'outbound' && r.type === 'message.updated' && FINAL_STATUSES.has(status))
      statusSubjects.push(`${m.id}${STATUS_SEP}${status}`);
  }
  return { logIds, statusSubjects };
}

/** One page of the consent ledger: a projection job per phone whose consent changed. */
async function feedConsent(db: Database, jobs: SyncJobs, connection: CrmConnection): Promise<number> {
  return db.transaction(async (tx) => {
    const [cursor] = await tx.query<{ tx: number; id: number }>(
      `SELECT consent_cursor_tx AS tx, consent_cursor_id AS id FROM crm_connections WHERE id = $1`,
      [connection.id],
    );
    if (cursor === undefined) return 0;
    const rows = await tx.query<{ id: number; tx_id: number; phone_e164: string }>(
      `SELECT id, tx_id, phone_e164 FROM consent_events
        WHERE org_id = $1 AND (tx_id, id) > ($2, $3) AND ${SETTLED}
        ORDER BY tx_id, id LIMIT ${LOG_PAGE}`,
      [connection.orgId, cursor.tx, cursor.id],
    );
    const last = rows.at(-1);
    if (last === undefined) return 0;
    // The numbers as their tokens (the job's subject is stored); the projection opens them.
    await jobs.queueConsent(
      tx,
      connection,
      rows.map((r) => r.phone_e164),
    );
    await tx.query(
      `UPDATE crm_connections SET consent_cursor_tx = $2, consent_cursor_id = $3 WHERE id = $1`,
      [connection.id, last.tx_id, last.id],
    );
    return rows.length;
  });
}
