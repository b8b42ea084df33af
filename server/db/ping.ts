import type { Queryable } from './database.ts';

/** Asks the database the smallest question there is; rejects when it does not answer. */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
