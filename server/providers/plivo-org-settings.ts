import type { Queryable } from '../db/database.ts';

/**
 * The org setting PlivoProvider reads through its `powerpackFor` option: the Powerpack (number
 * pool) an organisation sends from, or null to send from the message's own number.
 */
export async function orgPowerpackUuid(db: Queryable, orgId: string): Promise<string | null> {
  const rows = await db.query<{ powerpack: string | null }>(
    `SELECT settings->>'plivoPowerpackUuid' AS powerpack FROM orgs WHERE id = $1`,
    [orgId],
  );
  return rows[0]?.powerpack ?? null;
}
