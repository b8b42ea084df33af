import type { Database } from '../../server/db/database.ts';
import { runLanes } from './lanes.ts';

/** What one stretch of the bare INSERT loop achieved (raw, so stretches can be combined). */
export interface BaselineRun {
  rows: number;
  errors: number;
  elapsedMs: number;
  /** Latency of every successful INSERT, in milliseconds. */
  latenciesMs: number[];
}

// Its own table, so the baseline touches none of the relay's indexes, triggers or constraints:
// it measures what one autocommitted row costs on this database and nothing else.
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS bench_baseline (
  id          bigserial PRIMARY KEY,
  org_id      uuid NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
)`;

export const BASELINE_INSERT = 'INSERT INTO bench_baseline (org_id, body) VALUES ($1, $2)';

/** Creates the baseline table in the bench's own throwaway database. */
export async function prepareBaseline(db: Database): Promise<void> {
  await db.query(CREATE_TABLE);
}

/**
 * `concurrency` loops, each inserting one row per statement (autocommit, so one commit per row
 * like one send is one transaction) through the same Database handle the relay uses, for
 * `durationMs`. Rows per second is the yardstick the send endpoint is compared with.
 */
export async function runInsertBaseline(
  db: Database,
  options: { concurrency: number; durationMs: number; maxRows: number; orgId: string; body: string },
): Promise<BaselineRun> {
  const latenciesMs: number[] = [];
  let rows = 0;
  let errors = 0;
  const { elapsedMs } = await runLanes(options.concurrency, options.durationMs, options.maxRows, async () => {
    const begun = performance.now();
    try {
      await db.query(BASELINE_INSERT, [options.orgId, options.body]);
      rows += 1;
      latenciesMs.push(performance.now() - begun);
    } catch {
      // Counted, not thrown: a failing baseline is reported as such instead of aborting the run.
      errors += 1;
    }
  });
  return { rows, errors, elapsedMs, latenciesMs };
}
