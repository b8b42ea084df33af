import { createHash } from 'node:crypto';
import pg from 'pg';
import { type Database, type Queryable, TX_DATABASE } from './database.ts';
import { PostgresListener } from './postgres-listener.ts';

// int8 (bigserial ids, counts) as numbers: ids stay far below 2^53 and both engines then agree.
pg.types.setTypeParser(20, (value) => Number(value));

/**
 * Names the statements the relay runs again and again, so PostgreSQL parses and plans each once
 * per connection and the driver sends only its name and parameters: on the send path that saves
 * server CPU and a kilobyte of SQL text per query. A statement is named on its second use, so
 * one-off SQL (migrations, ad-hoc admin queries) is never cached; the map is bounded.
 */
class StatementNames {
  private readonly named = new Map<string, string>();
  private readonly seen = new Set<string>();

  config(text: string, values: unknown[]): pg.QueryConfig {
    let name = this.named.get(text);
    if (name === undefined) {
      if (this.seen.has(text) && this.named.size < 2000) {
        name = `r${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
        this.named.set(text, name);
        this.seen.delete(text);
      } else {
        if (this.seen.size >= 2000) this.seen.clear();
        this.seen.add(text);
      }
    }
    return name === undefined ? { text, values } : { name, text, values };
  }
}

export interface PostgresOptions {
  url: string;
  maxConnections?: number;
  /** Called when the LISTEN connection drops and is re-established, so readers can catch up. */
  onListenReconnect?: () => void;
  log?: (message: string) => void;
}

/** PostgreSQL through a pg pool, with one dedicated connection for LISTEN. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 20,
    application_name: 'crm-texting-relay',
  });
  // An idle client erroring (server restart) must not crash the process; the pool replaces it.
  pool.on('error', (error) => options.log?.(`postgres pool: ${error.message}`));
  // Fail fast with a clear message when the database is unreachable.
  const probe = await pool.connect();
  probe.release();

  const statements = new StatementNames();
  const listener = new PostgresListener({
    url: options.url,
    ...(options.onListenReconnect === undefined ? {} : { onReconnect: options.onListenReconnect }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const db: Database = {
    kind: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = await pool.query(statements.config(sql, params as unknown[]));
      return result.rows as T[];
    },
    transaction: (fn) => inTransaction(db, pool, statements, fn),
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
  return db;
}

/** Runs fn on one pooled connection between BEGIN and COMMIT, rolling back when it throws. */
async function inTransaction<T>(
  db: Database,
  pool: pg.Pool,
  statements: StatementNames,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const tx = {
      [TX_DATABASE]: db,
      async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
        const result = await client.query(statements.config(sql, params as unknown[]));
        return result.rows as R[];
      },
    };
    const value = await fn(tx);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    // best effort: the original error is rethrown below; a failed ROLLBACK must not mask it
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
