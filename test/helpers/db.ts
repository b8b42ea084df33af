import { randomBytes } from 'node:crypto';
import { tokenizeStoredPhones } from '../../server/crypto/phone-upgrade.ts';
import { openVault, vaultOf } from '../../server/crypto/vault.ts';
import type { Database } from '../../server/db/database.ts';
import { migrate } from '../../server/db/migrate.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { openPostgres } from '../../server/db/postgres.ts';

/** The PostgreSQL server tests use, or null (those tests then say they were skipped). */
export const POSTGRES_URL = process.env.DATABASE_URL ?? null;

/** Says in the test output whether a suite's PostgreSQL half runs (CI must show that it did). */
export function postgresSkipNote(suite: string): void {
  if (POSTGRES_URL === null) console.warn(`[skipped] ${suite} on PostgreSQL: DATABASE_URL is not set`);
  else console.info(`[postgres] ${suite} runs on PostgreSQL at ${new URL(POSTGRES_URL).host}`);
}

/** A migrated in-memory PGlite database. */
export async function freshPglite(): Promise<Database> {
  const db = await openPglite();
  await migrate(db);
  await sandboxVault(db);
  return db;
}

/**
 * Rows a test wrote straight into the tables with numbers in clear get their tokens, as an
 * upgraded database's do (server/crypto/phone-upgrade.ts): customers' numbers are stored as tokens.
 */
export async function tokenizePhones(db: Database): Promise<void> {
  await tokenizeStoredPhones(db, vaultOf(db).phones, { evenIfDone: true });
}

/** A test database's key vault, as a sandbox relay opens it (message texts are sealed at rest). */
export async function sandboxVault(db: Database): Promise<void> {
  await openVault(db, { configured: null, sandbox: true });
}

/** A new, migrated PostgreSQL database of its own, dropped by `drop()`. */
export async function freshPostgres(): Promise<{ db: Database; url: string; drop(): Promise<void> }> {
  if (POSTGRES_URL === null) throw new Error('DATABASE_URL is not set');
  const name = `relay_test_${randomBytes(6).toString('hex')}`;
  const admin = await openPostgres({ url: POSTGRES_URL, maxConnections: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const db = await openPostgres({ url: url.href });
  await migrate(db);
  await sandboxVault(db);
  return {
    db,
    url: url.href,
    async drop() {
      await db.close().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

export type Engine = 'pglite' | 'postgres';

/**
 * The engines a storage test runs on here: PGlite always, PostgreSQL when DATABASE_URL is set.
 * TEST_ENGINES (`pglite`, `postgres` or both, comma-separated) narrows that: the clock runs
 * (`npm run test:clock`) take one engine per faked instant to stay within CI's time.
 */
export const ENGINES: Engine[] = selectEngines(process.env.TEST_ENGINES);

function selectEngines(wanted: string | undefined): Engine[] {
  const available: Engine[] = POSTGRES_URL === null ? ['pglite'] : ['pglite', 'postgres'];
  if (wanted === undefined || wanted.trim() === '') return available;
  const names = wanted.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => name !== 'pglite' && name !== 'postgres');
  if (unknown.length > 0) throw new Error(`TEST_ENGINES: unknown engine ${unknown.join(', ')}`);
  const chosen = available.filter((engine) => names.includes(engine));
  // Asked for PostgreSQL without DATABASE_URL: PGlite still runs (postgresSkipNote says why).
  return chosen.length > 0 ? chosen : ['pglite'];
}

export async function freshDatabase(engine: Engine): Promise<{ db: Database; drop(): Promise<void> }> {
  if (engine === 'postgres') return freshPostgres();
  const db = await freshPglite();
  return { db, drop: () => db.close() };
}
