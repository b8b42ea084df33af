import { parseOrgSettings } from '../compliance/org-settings.ts';
import type { Queryable } from '../db/database.ts';

/**
 * Serialises consent changes for one (org, phone) until the transaction ends, so two requests
 * cannot both read "not opted in" and both ask or record.
 */
export async function lockConsent(tx: Queryable, orgId: string, phone: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${orgId}:${phone}`]);
}

/** The org's compliance settings (double opt-in, its question), as recording consent reads them. */
export async function consentSettings(tx: Queryable, orgId: string) {
  const rows = await tx.query<{ name: string; settings: unknown }>(
    'SELECT name, settings FROM orgs WHERE id = $1',
    [orgId],
  );
  return parseOrgSettings(rows[0]?.name ?? '', rows[0]?.settings);
}
