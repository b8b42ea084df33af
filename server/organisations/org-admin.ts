import { createApiKey } from '../auth/api-keys.ts';
import type { Role } from '../auth/permissions.ts';
import { isUniqueViolation, type Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId, randomToken, sha256 } from '../ids.ts';
import { orgPhone } from './org-phone.ts';

/** Operations an operator scripts (CLI) and the setup page share. */
export async function createOrg(db: Queryable, name: string): Promise<{ orgId: string }> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) {
    throw new ApiError(400, 'INVALID_ORG_NAME', 'The organisation name must be 1 to 200 characters.');
  }
  const orgId = newId();
  await db.query('INSERT INTO orgs (id, name) VALUES ($1, $2)', [orgId, trimmed]);
  return { orgId };
}

export async function requireOrg(db: Queryable, orgId: string): Promise<{ id: string; name: string }> {
  if (!/^[0-9a-f-]{36}$/i.test(orgId))
    throw new ApiError(400, 'INVALID_ORG_ID', `"${orgId}" is not an organisation id.`);
  const rows = await db.query<{ id: string; name: string }>('SELECT id, name FROM orgs WHERE id = $1', [
    orgId,
  ]);
  const org = rows[0];
  if (org === undefined) throw new ApiError(404, 'ORG_NOT_FOUND', `No organisation ${orgId}.`);
  return org;
}

/** A number some organisation (this one or another; never said which) has registered already. */
export function numberTaken(e164: string): ApiError {
  return new ApiError(409, 'NUMBER_TAKEN', `${e164} is already registered to an organisation.`);
}

export async function addSenderNumber(
  db: Queryable,
  input: {
    orgId: string;
    /** The number as typed: E.164, international, or national in the org's default country. */
    e164: string;
    numberType?: 'long_code' | 'toll_free' | 'short_code';
    label?: string | null;
    /** Checked by the caller: an active user of the org (sender-number-admin.ts). */
    defaultAssigneeUserId?: string | null;
  },
): Promise<{ numberId: string; e164: string }> {
  await requireOrg(db, input.orgId);
  const e164 = await orgPhone(db, input.orgId, 'number', input.e164);
  const numberId = newId();
  try {
    await db.query(
      `INSERT INTO sender_numbers (id, org_id, e164, number_type, label, default_assignee_user_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        numberId,
        input.orgId,
        e164,
        input.numberType ?? 'long_code',
        input.label ?? null,
        input.defaultAssigneeUserId ?? null,
      ],
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw numberTaken(e164);
    throw error;
  }
  return { numberId, e164 };
}

export async function createKeyForOrg(
  db: Queryable,
  input: { orgId: string; role: Role; name?: string | null },
): Promise<{ keyId: string; key: string }> {
  await requireOrg(db, input.orgId);
  const created = await createApiKey(db, input);
  return { keyId: created.id, key: created.key };
}

export async function orgCount(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orgs');
  return rows[0]?.n ?? 0;
}

/** A one-time link for the first admin; printed by `npm start` while no organisation exists. */
export async function issueSetupToken(db: Queryable, now: Date, ttlHours = 24): Promise<string> {
  const token = randomToken(24);
  await db.query(`INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)`, [
    sha256(token),
    new Date(now.getTime() + ttlHours * 3_600_000),
  ]);
  return token;
}

/** Consumes a setup token; false if unknown, used or expired. */
export async function consumeSetupToken(db: Queryable, token: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    `UPDATE setup_tokens SET used_at = $2
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING 1`,
    [sha256(token), now],
  );
  return rows.length > 0;
}

export async function setupTokenUsable(db: Queryable, token: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [sha256(token), now],
  );
  return rows.length > 0;
}
