import type { Queryable } from '../db/database.ts';

/** The organisation's sender numbers, oldest first. */
export async function listSenderNumbers(
  db: Queryable,
  orgId: string,
): Promise<{ id: string; e164: string; label: string | null; numberType: string }[]> {
  const rows = await db.query<{ id: string; e164: string; label: string | null; number_type: string }>(
    'SELECT id, e164, label, number_type FROM sender_numbers WHERE org_id = $1 ORDER BY created_at, e164',
    [orgId],
  );
  return rows.map((r) => ({ id: r.id, e164: r.e164, label: r.label, numberType: r.number_type }));
}
