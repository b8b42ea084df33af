import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Database } from '../../server/db/database.ts';
import { migrate } from '../../server/db/migrate.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { freshPostgres, POSTGRES_URL } from '../helpers/db.ts';

export type Engine = 'pglite' | 'postgres';

/** Where a bench database lives and how to get rid of it. */
export interface BenchDatabase {
  engine: Engine;
  db: Database;
  description: string;
  dataDir: string;
  databaseUrl: string | null;
  dispose(): Promise<void>;
}

/** Fails fast (3 s) when PostgreSQL is unreachable; pg would otherwise wait indefinitely. */
async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** host:port/database, never the credentials. */
export function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

/** Why an engine cannot be benchmarked here, or null when it can. */
export async function unavailable(engine: Engine): Promise<string | null> {
  if (engine === 'pglite') return null;
  // freshPostgres() creates the bench database on this server (DATABASE_URL).
  if (POSTGRES_URL === null) return 'DATABASE_URL is not set';
  const unreachable = await probePostgres(POSTGRES_URL);
  return unreachable === null ? null : `PostgreSQL at ${where(POSTGRES_URL)} is unreachable (${unreachable})`;
}

/**
 * A migrated database of its own: a fresh PostgreSQL database (dropped afterwards), or PGlite on
 * disk in a temp dir like a real installation (in-memory PGlite would flatter both sides
 * differently). dispose() removes it entirely.
 */
export async function openBenchDatabase(engine: Engine): Promise<BenchDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-bench-'));
  const removeDir = () => fs.rm(dataDir, { recursive: true, force: true });
  try {
    if (engine === 'postgres') {
      const fresh = await freshPostgres();
      return {
        engine,
        db: fresh.db,
        description: `PostgreSQL ${where(fresh.url)}`,
        dataDir,
        databaseUrl: fresh.url,
        dispose: async () => {
          try {
            await fresh.drop();
          } finally {
            await removeDir();
          }
        },
      };
    }
    const db = await openPglite({ dataDir });
    await migrate(db);
    return {
      engine,
      db,
      description: `PGlite in ${dataDir}`,
      dataDir,
      databaseUrl: null,
      dispose: async () => {
        try {
          await db.close();
        } finally {
          await removeDir();
        }
      },
    };
  } catch (error) {
    await removeDir();
    throw error;
  }
}

export async function countRows(db: Database, sql: string): Promise<number> {
  const rows = await db.query<{ n: number }>(sql);
  return rows[0]?.n ?? 0;
}

export const countMessages = (db: Database): Promise<number> =>
  countRows(db, 'SELECT count(*)::int AS n FROM messages');
