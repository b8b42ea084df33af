import type { Queryable } from '../db/database.ts';
import { type Permission, resolvePermissions } from './permissions.ts';
import { sessionDeadlines } from './sessions.ts';

/** Why a credential a long-lived connection was opened with no longer lets it go on. */
export type RevokedReason =
  | 'user_deactivated'
  | 'signed_out'
  | 'session_revoked'
  | 'expired'
  | 'key_revoked'
  | 'role_changed';

/** The credential a connection was opened with: a session (and its access token's expiry), or a key. */
export type CredentialBinding =
  | { kind: 'session'; sessionId: string; tokenExpiresAt: Date }
  | { kind: 'key'; keyId: string };

/**
 * A credential's standing as the database has it now: still valid, with the role and permissions
 * it carries now and the instant it would end by itself (null: not by time), or ended and why.
 */
export type Standing =
  | { valid: true; role: string; permissions: readonly Permission[]; endsAt: Date | null }
  | { valid: false; reason: RevokedReason };

/** How a session's stored revocation reason reads to the person whose stream it ends. */
function sessionReason(stored: string | null): RevokedReason {
  if (stored === 'deactivated') return 'user_deactivated';
  if (stored === 'signed_out') return 'signed_out';
  if (stored === 'idle_timeout' || stored === 'absolute_timeout') return 'expired';
  return 'session_revoked';
}

const earliest = (dates: readonly Date[]): Date => new Date(Math.min(...dates.map((date) => date.getTime())));

/**
 * Re-reads a credential the way authentication would judge it at `now` (the relay's clock): the
 * same conditions resolveAccessToken and resolveApiKey apply, by id instead of by secret.
 */
export async function credentialStanding(
  db: Queryable,
  binding: CredentialBinding,
  now: Date,
): Promise<Standing> {
  if (binding.kind === 'session') {
    const rows = await db.query<{
      revoked_at: Date | null;
      revoked_reason: string | null;
      created_at: Date;
      last_seen_at: Date;
      settings: unknown;
      status: string;
      role: string;
      custom: string[] | null;
    }>(
      `SELECT s.revoked_at, s.revoked_reason, s.created_at, s.last_seen_at, o.settings, u.status, u.role,
              r.permissions AS custom
         FROM auth_sessions s
         JOIN users u ON u.id = s.user_id
         JOIN orgs o ON o.id = s.org_id
         LEFT JOIN roles r ON r.org_id = s.org_id AND r.name = u.role
        WHERE s.id = $1`,
      [binding.sessionId],
    );
    const row = rows[0];
    if (row === undefined) return { valid: false, reason: 'session_revoked' };
    if (row.status !== 'active') return { valid: false, reason: 'user_deactivated' };
    if (row.revoked_at !== null) return { valid: false, reason: sessionReason(row.revoked_reason) };
    const deadlines = sessionDeadlines(row);
    const endsAt = earliest([binding.tokenExpiresAt, deadlines.absolute, deadlines.idle]);
    if (now.getTime() >= endsAt.getTime()) return { valid: false, reason: 'expired' };
    const permissions = resolvePermissions(row.role, row.custom);
    if (permissions === null) return { valid: false, reason: 'role_changed' };
    return { valid: true, role: row.role, permissions, endsAt };
  }
  const rows = await db.query<{
    revoked_at: Date | null;
    role: string;
    custom: string[] | null;
    user_status: string | null;
  }>(
    `SELECT k.revoked_at, k.role, r.permissions AS custom, u.status AS user_status
       FROM api_keys k
       LEFT JOIN users u ON u.id = k.user_id
       LEFT JOIN roles r ON r.org_id = k.org_id AND r.name = k.role
      WHERE k.id = $1`,
    [binding.keyId],
  );
  const row = rows[0];
  if (row === undefined) return { valid: false, reason: 'key_revoked' };
  if (row.user_status !== null && row.user_status !== 'active')
    return { valid: false, reason: 'user_deactivated' };
  if (row.revoked_at !== null) return { valid: false, reason: 'key_revoked' };
  const permissions = resolvePermissions(row.role, row.custom);
  if (permissions === null) return { valid: false, reason: 'role_changed' };
  return { valid: true, role: row.role, permissions, endsAt: null };
}
