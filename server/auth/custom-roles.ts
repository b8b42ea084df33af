import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import { recordAuthEvent } from './auth-events.ts';
import type { Permission } from './permissions.ts';

/** A role an org made of named permissions. */
export interface CustomRole {
  id: string;
  name: string;
  permissions: string[];
}

/** The org's custom roles, by name. */
export async function customRoles(db: Queryable, orgId: string): Promise<CustomRole[]> {
  return db.query<CustomRole>('SELECT id, name, permissions FROM roles WHERE org_id = $1 ORDER BY name', [
    orgId,
  ]);
}

/** Creates a custom role; its name must be free in the org. Audited as role_created. Call inside a transaction. */
export async function createCustomRole(
  tx: Queryable,
  input: { orgId: string; name: string; permissions: Permission[] },
  by: { actor: string; now: Date; ip?: string | null },
): Promise<CustomRole> {
  const { orgId, name, permissions } = input;
  const taken = await tx.query('SELECT 1 FROM roles WHERE org_id = $1 AND name = $2', [orgId, name]);
  if (taken.length > 0) throw new ApiError(409, 'ROLE_EXISTS', `A role "${name}" already exists.`);
  const id = newId();
  await tx.query('INSERT INTO roles (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)', [
    id,
    orgId,
    name,
    permissions,
  ]);
  await recordAuthEvent(tx, {
    orgId,
    userId: null,
    actor: by.actor,
    kind: 'role_created',
    detail: { name, permissions },
    at: by.now,
    ip: by.ip ?? null,
  });
  return { id, name, permissions };
}
