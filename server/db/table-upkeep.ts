import { PeriodicRunner } from '../lib/periodic-runner.ts';
import type { Database } from './database.ts';

/**
 * Embedded PGlite has no autovacuum: without this, its tables are never analyzed and never
 * vacuumed. Plans chosen on empty tables then stay (the send path's replay lookup walked every
 * message of the org through messages_org_age), and the outbox's churn leaves dead rows behind.
 * PostgreSQL's own autovacuum does this job there, so the upkeep runs on PGlite only.
 *
 * The thresholds are autovacuum's defaults: analyze after 50 + 10 % of a table's rows changed,
 * vacuum after 50 + 20 % of them died.
 */
const ANALYZE_BASE = 50;
const ANALYZE_SCALE = 0.1;
const VACUUM_BASE = 50;
const VACUUM_SCALE = 0.2;

/** How often the relay looks (autovacuum's own naptime). */
export const UPKEEP_INTERVAL_MS = 60_000;

interface TableStats {
  table: string;
  live: number;
  dead: number;
  modified: number;
  /** The planner's row count from the last analyze; -1 before the first. */
  known: number;
}

export interface UpkeepReport {
  analyzed: string[];
  vacuumed: string[];
  elapsedMs: number;
}

/** A catalog name as an SQL identifier. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function tableStats(db: Database): Promise<TableStats[]> {
  // Counters reach pg_stat_user_tables when a backend reports them, which a lone embedded backend
  // seldom does by itself: ask for the report, let one statement end, then read.
  await db.query('SELECT pg_stat_force_next_flush()');
  await db.query('SELECT 1');
  const rows = await db.query<{ table: string; live: string; dead: string; modified: string; known: number }>(
    `SELECT s.relname AS table, s.n_live_tup AS live, s.n_dead_tup AS dead,
            s.n_mod_since_analyze AS modified, c.reltuples AS known
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = 'public'
      ORDER BY s.relname`,
  );
  return rows.map((r) => ({
    table: r.table,
    live: Number(r.live),
    dead: Number(r.dead),
    modified: Number(r.modified),
    known: Number(r.known),
  }));
}

/**
 * Analyzes each table that changed enough since its last analyze and vacuums each that gathered
 * enough dead rows (vacuuming analyzes too). A table is handled whole, one at a time: PGlite runs
 * one statement at a time, so sends wait at most for one table's pass.
 */
export async function upkeepTables(db: Database): Promise<UpkeepReport> {
  const started = performance.now();
  const analyzed: string[] = [];
  const vacuumed: string[] = [];
  if (db.kind !== 'pglite') return { analyzed, vacuumed, elapsedMs: 0 };
  for (const t of await tableStats(db)) {
    const size = Math.max(t.known, t.live, 0);
    if (t.dead > VACUUM_BASE + VACUUM_SCALE * size) {
      await db.query(`VACUUM (ANALYZE) ${quoted(t.table)}`);
      vacuumed.push(t.table);
    } else if (t.modified > ANALYZE_BASE + ANALYZE_SCALE * size) {
      await db.query(`ANALYZE ${quoted(t.table)}`);
      analyzed.push(t.table);
    }
  }
  return { analyzed, vacuumed, elapsedMs: Math.round(performance.now() - started) };
}

/** Runs upkeepTables on a timer; started by the relay on PGlite only. */
export class TableUpkeepWorker {
  private readonly runner: PeriodicRunner;

  constructor(
    private readonly options: {
      db: Database;
      log: (level: 'info' | 'warn' | 'error', message: string) => void;
      intervalMs?: number;
    },
  ) {
    this.runner = new PeriodicRunner(
      () => this.pass(),
      options.intervalMs ?? UPKEEP_INTERVAL_MS,
      (error) => options.log('error', `table upkeep failed: ${String(error)}`),
    );
  }

  /** The first pass comes after one interval: a relay just started has nothing to catch up on. */
  start(): void {
    if (this.options.db.kind === 'pglite') this.runner.start(false);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async pass(): Promise<void> {
    const report = await upkeepTables(this.options.db);
    // Quiet when quick: a pass a minute under load is routine. A slow one is worth a line.
    if (report.elapsedMs >= 1000)
      this.options.log(
        'info',
        `table upkeep took ${(report.elapsedMs / 1000).toFixed(1)} s (vacuumed: ${report.vacuumed.join(', ') || 'none'}; analyzed: ${report.analyzed.join(', ') || 'none'})`,
      );
  }
}
