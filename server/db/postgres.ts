import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database, Queryable } from './database.ts';

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
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let listener: pg.Client | null = null;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | null = null;

  async function connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: options.url, application_name: 'crm-texting-listen' });
    client.on('notification', (msg) => {
      for (const handler of handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
    });
    client.on('error', (error) => {
      options.log?.(`postgres listen connection lost: ${error.message}`);
      scheduleReconnect();
    });
    client.on('end', () => {
      if (!closed) scheduleReconnect();
    });
    await client.connect();
    for (const channel of handlers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
    listener = client;
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== null) return;
    const old = listener;
    listener = null;
    // best effort: the old listener is being replaced; a failure to end it changes nothing
    old?.end().catch(() => undefined);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connectListener().then(
        () => options.onListenReconnect?.(),
        (error: unknown) => {
          options.log?.(`postgres listen reconnect failed: ${String(error)}`);
          scheduleReconnect();
        },
      );
    }, 1000);
  }

  const db: Database = {
    kind: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = await pool.query(statements.config(sql, params as unknown[]));
      return result.rows as T[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
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
    },
    async listen(channel, onNotify) {
      let set = handlers.get(channel);
      if (set === undefined) {
        set = new Set();
        handlers.set(channel, set);
        if (listener === null && reconnectTimer === null) await connectListener();
        else await listener?.query(`LISTEN ${quoteIdent(channel)}`);
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
      };
    },
    async close() {
      closed = true;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      // best effort: shutting down; a listener that fails to end is gone either way
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
  return db;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid channel name ${name}`);
  return `"${name}"`;
}
