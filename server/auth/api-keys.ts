import type { Queryable } from '../db/database.ts';
import { newId, randomToken, sha256 } from '../ids.ts';
import type { PolicyFacts } from '../policy/texting-policy.ts';
import { recordAuthEvent } from './auth-events.ts';
import type { Role } from './permissions.ts';
import { policyFactsOf } from './sessions.ts';

const KEY_PATTERN = /^ctk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export interface CreatedApiKey {
  id: string;
  /** The whole secret; shown once, never stored. */
  key: string;
  prefix: string;
}

/** Creates an API key for an org and role; only its SHA-256 is stored. */
export async function createApiKey(
  db: Queryable,
  input: { orgId: string; role: Role | string; name?: string | null; userId?: string | null },
): Promise<CreatedApiKey> {
  const prefix = randomToken(6)
    .replace(/[^A-Za-z0-9]/g, '0')
    .slice(0, 8);
  const key = `ctk_${prefix}_${randomToken(32)}`;
  const id = newId();
  await db.query(
    `INSERT INTO api_keys (id, org_id, user_id, role, name, prefix, secret_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, input.orgId, input.userId ?? null, input.role, input.name ?? null, prefix, sha256(key)],
  );
  return { id, key, prefix };
}

export interface KeyPrincipal {
  keyId: string;
  keyName: string | null;
  orgId: string;
  orgName: string;
  role: string;
  /** The user the key is bound to; such keys stop with the user's deactivation. */
  userId: string | null;
  /** The permissions of the key's custom role, read in the same query; null for built-ins. */
  customPermissions: string[] | null;
  /** Since when an anomaly alert has paused the bound user's sending; null otherwise. */
  sendingPausedAt: Date | null;
  /** The bound user's texting-policy facts where the org requires it; null for org keys. */
  policy: PolicyFacts | null;
}

/** Resolves a presented key to its principal, or null if unknown, malformed or revoked. */
export async function resolveApiKey(db: Queryable, presented: string): Promise<KeyPrincipal | null> {
  if (!KEY_PATTERN.test(presented)) return null;
  const rows = await db.query<{
    id: string;
    name: string | null;
    org_id: string;
    org_name: string;
    role: string;
    user_id: string | null;
    custom: string[] | null;
    stale: boolean;
    sending_paused_at: Date | null;
    settings: unknown;
    policy_version: number | null;
    policy_acknowledged_version: number | null;
    policy_acknowledged_at: Date | null;
  }>(
    `SELECT k.id, k.name, k.org_id, o.name AS org_name, k.role, k.user_id, r.permissions AS custom, u.sending_paused_at,
            o.settings, o.policy_version, u.policy_acknowledged_version, u.policy_acknowledged_at,
            (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale
       FROM api_keys k
       JOIN orgs o ON o.id = k.org_id
       LEFT JOIN users u ON u.id = k.user_id
       LEFT JOIN roles r ON r.org_id = k.org_id AND r.name = k.role
      WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND (u.id IS NULL OR u.status = 'active')`,
    [sha256(presented)],
  );
  const row = rows[0];
  if (row === undefined) return null;
  // Touch last_used_at at most once a minute so reads stay cheap.
  if (row.stale) await db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
  return {
    keyId: row.id,
    keyName: row.name,
    orgId: row.org_id,
    orgName: row.org_name,
    role: row.role,
    userId: row.user_id,
    customPermissions: row.custom,
    sendingPausedAt: row.sending_paused_at === null ? null : new Date(row.sending_paused_at),
    // A key bound to a person sends as that person: the policy they acknowledge binds it too.
    policy: row.user_id === null ? null : policyFactsOf(row),
  };
}

interface KeyRow {
  id: string;
  name: string | null;
  prefix: string;
  role: string;
  user_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const KEY_COLUMNS = 'id, name, prefix, role, user_id, created_at, last_used_at, revoked_at';

/** An API key as admins see it: never its secret. */
export const apiKeyDto = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  // Enough to recognise a key in a config file; the secret itself is never stored.
  prefix: `ctk_${k.prefix}_…`,
  role: k.role,
  userId: k.user_id,
  createdAt: new Date(k.created_at).toISOString(),
  lastUsedAt: k.last_used_at === null ? null : new Date(k.last_used_at).toISOString(),
  revokedAt: k.revoked_at === null ? null : new Date(k.revoked_at).toISOString(),
});

/** The org's keys: active ones first, newest first. */
export async function orgApiKeys(db: Queryable, orgId: string): Promise<KeyRow[]> {
  return db.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC`,
    [orgId],
  );
}

/** One key by id (after creating it). */
export async function apiKeyById(db: Queryable, id: string): Promise<KeyRow | null> {
  const [row] = await db.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return row ?? null;
}

/**
 * Mints a key for an admin: a role no higher than theirs is checked by the caller; who created
 * it is kept, and the event says which key. Call inside a transaction.
 */
export async function mintApiKey(
  tx: Queryable,
  input: { orgId: string; role: string; name: string; userId: string | null },
  by: { userId: string | null; actor: string; ip: string; now: Date },
): Promise<CreatedApiKey> {
  const key = await createApiKey(tx, input);
  await tx.query('UPDATE api_keys SET created_by_user_id = $2 WHERE id = $1', [key.id, by.userId]);
  await recordAuthEvent(tx, {
    orgId: input.orgId,
    userId: input.userId,
    actor: by.actor,
    kind: 'api_key_created',
    detail: { keyId: key.id, name: input.name, role: input.role },
    ip: by.ip,
    at: by.now,
  });
  return key;
}

/** Revokes one of the org's active keys; false when there is none with this id. */
export async function revokeApiKey(
  tx: Queryable,
  orgId: string,
  keyId: string,
  by: { actor: string; ip: string; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    'UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL RETURNING id',
    [keyId, orgId, by.now],
  );
  if (rows.length === 0) return false;
  await recordAuthEvent(tx, {
    orgId,
    userId: null,
    actor: by.actor,
    kind: 'api_key_revoked',
    detail: { keyId },
    ip: by.ip,
    at: by.now,
  });
  return true;
}
