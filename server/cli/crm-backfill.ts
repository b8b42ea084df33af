import type { BackfillCheckpoint, CrmConnection } from '../crm-sync/connections.ts';
import { CrmSyncWorker } from '../crm-sync/sync-worker.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';

// `crm backfill`: an organisation's existing messages pushed through the sync queue, a page at a time, with a
// checkpoint on the connection so an interrupted run resumes where it stopped.

interface BackfillCounts {
  pending: number;
  logged: number;
  skipped: number;
  dead: number;
}

/** Where the backfill's message jobs stand (a replayed dead letter counts as logged once it is done). */
async function backfillCounts(db: Database, connectionId: string): Promise<BackfillCounts> {
  const rows = await db.query<{ state: string; note: string | null; n: number }>(
    `SELECT state, (note IS NOT NULL AND note <> 'replayed') AS note, count(*)::int AS n FROM crm_sync_jobs
      WHERE connection_id = $1 AND kind = 'message' AND subject NOT LIKE '%#%' GROUP BY 1, 2`,
    [connectionId],
  );
  const sum = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).reduce((a, r) => a + r.n, 0);
  return {
    pending: sum((r) => r.state === 'queued' || r.state === 'working'),
    logged: sum((r) => r.state === 'done' && !r.note),
    skipped: sum((r) => r.state === 'done' && Boolean(r.note)),
    dead: sum((r) => r.state === 'dead'),
  };
}

/** Drains the connection's queue until nothing of the backfill waits; stops if the connection stops. */
async function settle(db: Database, worker: CrmSyncWorker, connectionId: string): Promise<BackfillCounts> {
  for (;;) {
    const c = await backfillCounts(db, connectionId);
    if (c.pending === 0) return c;
    const took = await worker.drainConnection(connectionId);
    const state = await db.query<{ status: string; status_detail: string | null }>(
      'SELECT status, status_detail FROM crm_connections WHERE id = $1',
      [connectionId],
    );
    if (state[0] !== undefined && state[0].status !== 'active')
      throw new ApiError(
        409,
        'CRM_CONNECTION_STOPPED',
        `backfill stopped: ${state[0].status}: ${state[0].status_detail}`,
      );
    if (!took) await new Promise((r) => setTimeout(r, 50));
  }
}

/** The next page of messages worth logging (inbound, or outbound the provider took) after the checkpoint. */
function nextPage(db: Database, connection: CrmConnection, checkpoint: BackfillCheckpoint, pageSize: number) {
  return db.query<{ id: string; created_at: Date }>(
    `SELECT id, created_at FROM messages
      WHERE org_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
        AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::uuid))
        AND (direction = 'inbound' OR status IN ('sent', 'delivered', 'undelivered'))
      ORDER BY created_at, id LIMIT $5`,
    [connection.orgId, checkpoint.since, checkpoint.createdAt, checkpoint.id, pageSize],
  );
}

async function saveCheckpoint(
  db: Pick<Database, 'query'>,
  connectionId: string,
  checkpoint: BackfillCheckpoint,
) {
  await db.query('UPDATE crm_connections SET backfill_checkpoint = $2 WHERE id = $1', [
    connectionId,
    JSON.stringify(checkpoint),
  ]);
}

/** Pushes an org's existing messages through the sync queue; resumable from its checkpoint. */
export async function runBackfill(
  db: Database,
  input: {
    connection: CrmConnection;
    secretsKey: SecretsKey;
    since: Date | null;
    progress?: (line: string) => void;
    worker?: CrmSyncWorker;
    pageSize?: number;
  },
): Promise<{ queued: number; logged: number; dead: number; skipped: number; resumed: boolean }> {
  const { connection } = input;
  const since = input.since?.toISOString() ?? null;
  const worker =
    input.worker ??
    new CrmSyncWorker({ db, secretsKey: input.secretsKey, lingerMs: 0, log: (_l, m) => input.progress?.(m) });
  const previous = connection.backfillCheckpoint;
  const resumed = previous !== null && !previous.done && previous.since === since;
  let checkpoint: BackfillCheckpoint = resumed
    ? previous
    : { since, createdAt: null, id: null, queued: 0, done: false };
  const pageSize = input.pageSize ?? 1000;
  for (;;) {
    const page = await nextPage(db, connection, checkpoint, pageSize);
    const last = page.at(-1);
    if (last === undefined) break;
    const next: BackfillCheckpoint = {
      ...checkpoint,
      createdAt: last.created_at.toISOString(),
      id: last.id,
      queued: checkpoint.queued + page.length,
    };
    await db.transaction(async (tx) => {
      await worker.queueMessages(
        tx,
        connection,
        page.map((m) => m.id),
      );
      await saveCheckpoint(tx, connection.id, next);
    });
    checkpoint = next;
    const c = await settle(db, worker, connection.id);
    input.progress?.(
      `backfill: ${checkpoint.queued} messages queued; ${c.logged} logged, ${c.skipped} without a CRM record, ${c.dead} dead`,
    );
    if (page.length < pageSize) break;
  }
  const final = await settle(db, worker, connection.id);
  await saveCheckpoint(db, connection.id, { ...checkpoint, done: true });
  return {
    queued: checkpoint.queued,
    logged: final.logged,
    dead: final.dead,
    skipped: final.skipped,
    resumed,
  };
}
