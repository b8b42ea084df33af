import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId, randomToken, sha256 } from '../ids.ts';
import { releaseAssignments } from '../inbox/inbox-state.ts';
import type { Mail } from '../mail/transport.ts';
import { recordAuthEvent } from './auth-events.ts';
import { hashPassword, PASSWORD_MESSAGES, passwordProblem } from './passwords.ts';
import { isPermission, type Permission, resolvePermissions } from './permissions.ts';
import { revokeUserSessions } from './sessions.ts';

export type LinkKind = 'verify_email' | 'reset_password' | 'mfa';

const LINK_TTL_MS: Record<LinkKind, number> = {
  mfa: 5 * 60_000,
  verify_email: 48 * 3_600_000,
  reset_password: 60 * 60_000,
};

/** Creates a single-use, expiring token; only its hash is stored. */
export async function issueLink(db: Queryable, kind: LinkKind, userId: string, now: Date): Promise<string> {
  const token = randomToken(32);
  await db.query(
    `INSERT INTO auth_tokens (token_hash, kind, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [sha256(token), kind, userId, now, new Date(now.getTime() + LINK_TTL_MS[kind])],
  );
  return token;
}

/** Uses a token once: returns its user, or null if unknown, of another kind, used or expired. */
export async function consumeLink(
  db: Queryable,
  kind: LinkKind,
  token: string,
  now: Date,
): Promise<string | null> {
  const rows = await db.query<{ user_id: string }>(
    `UPDATE auth_tokens SET used_at = $3
      WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3
      RETURNING user_id`,
    [sha256(token), kind, now],
  );
  return rows[0]?.user_id ?? null;
}

export function assertAcceptablePassword(password: string, email: string): void {
  const problem = passwordProblem(password, { email });
  if (problem !== null)
    throw new ApiError(
      422,
      problem === 'COMMON_PASSWORD' ? 'COMMON_PASSWORD' : 'WEAK_PASSWORD',
      PASSWORD_MESSAGES[problem],
      { rule: problem },
    );
}

export interface UserRow {
  id: string;
  org_id: string;
  email: string;
  display_name: string | null;
  role: string;
  status: 'active' | 'deactivated';
  password_hash: string | null;
  email_verified_at: Date | null;
  totp_secret: string | null;
  totp_enabled_at: Date | null;
  totp_last_step: string | null;
  created_at: Date;
  /** The IdP (entity id) and subject (NameID) whose assertions may sign this account in. */
  sso_idp_entity_id: string | null;
  sso_name_id: string | null;
  sso_linked_at: Date | null;
}

export function userDto(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.display_name,
    role: u.role,
    status: u.status,
    emailVerified: u.email_verified_at !== null,
    secondFactor: u.totp_enabled_at !== null,
    createdAt: new Date(u.created_at).toISOString(),
  };
}

export async function getUser(db: Queryable, id: string): Promise<UserRow | null> {
  const rows = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0] ?? null;
}

/** The permissions a role name grants in an org (built-in or custom), or null if it names none. */
export async function rolePermissions(
  db: Queryable,
  orgId: string,
  role: string,
): Promise<readonly Permission[] | null> {
  const rows = await db.query<{ permissions: string[] }>(
    'SELECT permissions FROM roles WHERE org_id = $1 AND name = $2',
    [orgId, role],
  );
  return resolvePermissions(role, rows[0]?.permissions ?? null);
}

/** Nobody hands out a permission they do not hold themselves. */
export async function assertMayGrant(
  db: Queryable,
  orgId: string,
  role: string,
  granter: readonly Permission[],
): Promise<void> {
  const wanted = await rolePermissions(db, orgId, role);
  if (wanted === null) throw new ApiError(422, 'UNKNOWN_ROLE', `No role "${role}" in your organisation.`);
  const missing = wanted.filter((p) => !granter.includes(p));
  if (missing.length > 0) {
    throw new ApiError(403, 'CANNOT_GRANT', 'You cannot grant a role with permissions you do not hold.', {
      missing,
    });
  }
}

/**
 * Creates a user and the mail to send them (an invitation to choose a password, or an address
 * check); the caller sends it after its transaction commits.
 */
export async function createUser(
  db: Queryable,
  input: {
    orgId: string;
    email: string;
    role: string;
    displayName?: string | null;
    password?: string | null;
    actor: string;
    now: Date;
    publicUrl: string;
    /** Where the request came from, for the audit log. */
    ip?: string | null;
  },
): Promise<{ user: UserRow; mail: Mail }> {
  const email = input.email.trim().toLowerCase();
  if (input.password != null) assertAcceptablePassword(input.password, email);
  const taken = await db.query('SELECT 1 FROM users WHERE org_id = $1 AND email = $2', [input.orgId, email]);
  if (taken.length > 0)
    throw new ApiError(409, 'USER_EXISTS', 'A user with this email already exists in your organisation.');
  const id = newId();
  const hash = input.password == null ? null : await hashPassword(input.password);
  const rows = await db.query<UserRow>(
    `INSERT INTO users (id, org_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [id, input.orgId, email, input.displayName ?? null, input.role, hash],
  );
  await recordAuthEvent(db, {
    orgId: input.orgId,
    userId: id,
    actor: input.actor,
    kind: 'user_created',
    detail: { role: input.role },
    at: input.now,
    ip: input.ip ?? null,
  });
  // Invited without a password: the reset link sets one and proves the address at once.
  const invited = hash === null;
  const token = await issueLink(db, invited ? 'reset_password' : 'verify_email', id, input.now);
  const text = invited
    ? `Choose your password: ${input.publicUrl}/auth/reset?token=${token}\nThe link works once and expires in an hour.`
    : `Confirm your address: ${input.publicUrl}/auth/verify?token=${token}\nThe link works once and expires in 48 hours.`;
  const subject = invited ? 'You have been invited to CRM Texting' : 'Confirm your email address';
  return { user: rows[0] as UserRow, mail: { to: email, subject, text } };
}

/** Stops a user everywhere: sessions, refresh tokens and keys bound to them fail on the next request. */
export async function deactivateUser(
  db: Queryable,
  input: { orgId: string; userId: string; actor: string; now: Date; ip?: string | null },
): Promise<UserRow> {
  const rows = await db.query<UserRow>(
    `UPDATE users SET status = 'deactivated', deactivated_at = $3 WHERE id = $1 AND org_id = $2 RETURNING *`,
    [input.userId, input.orgId, input.now],
  );
  const user = rows[0];
  if (user === undefined) throw new ApiError(404, 'USER_NOT_FOUND', 'No such user in your organisation.');
  await revokeUserSessions(db, user.id, 'deactivated', input.now);
  await db.query('UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [
    user.id,
    input.now,
  ]);
  // Their conversations go back to the unassigned queue, where a colleague picks them up.
  await releaseAssignments(db, input.orgId, user.id);
  await recordAuthEvent(db, {
    orgId: input.orgId,
    userId: user.id,
    actor: input.actor,
    kind: 'deactivated',
    at: input.now,
    ip: input.ip ?? null,
  });
  return user;
}

export async function setPassword(db: Queryable, user: UserRow, password: string, now: Date): Promise<void> {
  assertAcceptablePassword(password, user.email);
  const hash = await hashPassword(password);
  await db.query(
    'UPDATE users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, $3) WHERE id = $1',
    [user.id, hash, now],
  );
  await revokeUserSessions(db, user.id, 'password_changed', now);
  await recordAuthEvent(db, {
    orgId: user.org_id,
    userId: user.id,
    actor: `user:${user.id}`,
    kind: 'password_changed',
    at: now,
  });
}

export function validCustomPermissions(values: string[]): Permission[] {
  const unknown = values.filter((v) => !isPermission(v));
  if (unknown.length > 0)
    throw new ApiError(422, 'UNKNOWN_PERMISSION', `Unknown permissions: ${unknown.join(', ')}.`, { unknown });
  return values as Permission[];
}

/** The active user with this id, locked for the rest of the transaction; null when gone or deactivated. */
export async function lockActiveUser(tx: Queryable, id: string): Promise<UserRow | null> {
  const [user] = await tx.query<UserRow>(
    `SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`,
    [id],
  );
  return user ?? null;
}

/** Every active account with this address, oldest first (one per org at most). */
export async function activeUsersByEmail(db: Queryable, email: string, orgId?: string): Promise<UserRow[]> {
  return db.query<UserRow>(
    `SELECT * FROM users WHERE email = $1 AND status = 'active' AND ($2::uuid IS NULL OR org_id = $2) ORDER BY created_at`,
    [email, orgId ?? null],
  );
}

/** Marks the address proven (the first time only); null when the user is gone. */
export async function markEmailVerified(db: Queryable, id: string, now: Date): Promise<UserRow | null> {
  const [user] = await db.query<UserRow>(
    'UPDATE users SET email_verified_at = coalesce(email_verified_at, $2) WHERE id = $1 RETURNING *',
    [id, now],
  );
  return user ?? null;
}

/** What GET /v1/me reads besides the principal: the org's settings and the user's own name and address. */
export async function profileOf(
  db: Queryable,
  orgId: string,
  userId: string | null,
): Promise<{ settings: unknown; display_name: string | null; email: string | null } | null> {
  const rows = await db.query<{ settings: unknown; display_name: string | null; email: string | null }>(
    `SELECT o.settings, u.display_name, u.email
       FROM orgs o LEFT JOIN users u ON u.id = $2::uuid AND u.org_id = o.id
      WHERE o.id = $1`,
    [orgId, userId],
  );
  return rows[0] ?? null;
}

/** The org's users, oldest first. */
export async function orgUsers(db: Queryable, orgId: string): Promise<UserRow[]> {
  return db.query<UserRow>('SELECT * FROM users WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
}

/** Gives a user another role; audited as role_changed. */
export async function changeRole(
  tx: Queryable,
  user: UserRow,
  role: string,
  by: { actor: string; now: Date; ip?: string | null },
): Promise<UserRow> {
  const [updated] = await tx.query<UserRow>('UPDATE users SET role = $2 WHERE id = $1 RETURNING *', [
    user.id,
    role,
  ]);
  await recordAuthEvent(tx, {
    orgId: user.org_id,
    userId: user.id,
    actor: by.actor,
    kind: 'role_changed',
    detail: { from: user.role, to: role },
    at: by.now,
    ip: by.ip ?? null,
  });
  return updated as UserRow;
}
