/** Something SQL can be run on: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** The relay's one storage handle; PGlite and PostgreSQL implement it identically. */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * The database a transaction belongs to: each engine marks its transaction handles with it, so a
 * service attached to a database (its key vault, server/crypto/vault.ts) reaches its transactions.
 */
export const TX_DATABASE = Symbol('transaction database');

/** The database behind a handle: itself, or the one a transaction was opened on. */
export function databaseOf(q: Queryable): Queryable {
  return (q as { [TX_DATABASE]?: Queryable })[TX_DATABASE] ?? q;
}

/** Runs fn in the caller's open transaction, or in a new one when given the database itself. */
export function withinTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const database = db as Partial<Database>;
  return typeof database.transaction === 'function' ? (db as Database).transaction(fn) : fn(db);
}

/** Postgres error codes the relay branches on. */
export const PG_UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (e.code !== PG_UNIQUE_VIOLATION) return false;
  if (constraint === undefined) return true;
  return e.constraint === constraint || (typeof e.message === 'string' && e.message.includes(constraint));
}
