import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Database, type Queryable, TX_DATABASE } from './database.ts';

/** Thrown when another live process already holds the embedded database directory. */
export class DatabaseBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is held by process ${pid} (probably a running relay server). ` +
        'PGlite allows one process at a time: stop that process, or use PostgreSQL through DATABASE_URL.',
    );
    this.name = 'DatabaseBusyError';
  }
}

export interface PgliteOptions {
  /** Directory for the data files; omit for an in-memory database (tests). */
  dataDir?: string;
  /** A data directory dump to start from (tests copy one migrated database). */
  loadDataDir?: Blob;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock file, replacing a stale one left by a dead process. */
function acquireLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'relay.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DatabaseBusyError(dataDir, holder);
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

/** Embedded PostgreSQL (PGlite): a single connection, so queries and transactions are serialised. */
export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  const release = options.dataDir === undefined ? () => undefined : acquireLock(options.dataDir);
  let pg: PGlite;
  try {
    pg = await PGlite.create(
      options.dataDir === undefined ? undefined : path.join(options.dataDir, 'pgdata'),
      {
        parsers: { 20: (value: string) => Number(value) },
        ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }),
      },
    );
  } catch (error) {
    release();
    throw error;
  }
  const toRows = async <T>(q: Queryable | PGlite, sql: string, params: readonly unknown[]): Promise<T[]> => {
    if (q instanceof PGlite) return (await q.query<T>(sql, params as unknown[])).rows;
    return q.query<T>(sql, params);
  };
  const db: Database = {
    kind: 'pglite',
    query: <T>(sql: string, params: readonly unknown[] = []) => toRows<T>(pg, sql, params),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction(async (t) =>
        fn({
          [TX_DATABASE]: db,
          async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
            return (await t.query<R>(sql, params as unknown[])).rows;
          },
        } as Queryable),
      );
    },
    async listen(channel, onNotify) {
      const unsubscribe = await pg.listen(channel, onNotify);
      return unsubscribe;
    },
    async close() {
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
  return db;
}
