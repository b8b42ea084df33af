import { type Permission, resolvePermissions } from '../auth/permissions.ts';
import type { Queryable } from '../db/database.ts';

/**
 * The addresses of an org's active people whose role (built-in or custom) grants `permission`:
 * who is told of what they may act on (a payment hold, an anomaly alert).
 */
export async function activePeopleWith(
  db: Queryable,
  orgId: string,
  permission: Permission,
): Promise<string[]> {
  const rows = await db.query<{ email: string; role: string; custom: string[] | null }>(
    `SELECT u.email, u.role, r.permissions AS custom FROM users u
       LEFT JOIN roles r ON r.org_id = u.org_id AND r.name = u.role
      WHERE u.org_id = $1 AND u.status = 'active' ORDER BY u.email`,
    [orgId],
  );
  return rows
    .filter((row) => resolvePermissions(row.role, row.custom)?.includes(permission) === true)
    .map((row) => row.email);
}
