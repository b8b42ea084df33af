import type { Queryable } from '../db/database.ts';

export type AuthEventKind =
  | 'sign_in'
  | 'sign_in_failed'
  | 'sign_out'
  | 'locked_out'
  | 'mfa_enrolled'
  | 'recovery_code_used'
  | 'refresh_reuse'
  | 'session_revoked'
  | 'password_reset_requested'
  | 'password_changed'
  | 'email_verified'
  | 'user_created'
  | 'role_changed'
  | 'role_created'
  | 'deactivated'
  | 'passkey_removed'
  /** A second factor removed without its owner asking (a password reset drops recent ones). */
  | 'mfa_revoked'
  | 'reveal'
  /** Texting re-opened to a customer who had opted out, by someone with consent.override. */
  | 'consent_override'
  /** A signed-in person proved their password or authenticator code again (POST /v1/auth/reauth). */
  | 'reauthenticated'
  /** A signed-in session's proof at POST /v1/auth/reauth was wrong (counted by reauthLimits). */
  | 'reauth_failed'
  | 'api_key_created'
  | 'api_key_revoked'
  /** An IdP subject (SAML NameID) was linked to an existing account: by its holder's proof or an owner. */
  | 'sso_linked'
  /** The org's SAML identity provider was configured or changed. */
  | 'sso_configured';

/** Appends to auth_events (append-only by trigger): the evidence behind every identity change. */
export async function recordAuthEvent(
  db: Queryable,
  event: {
    orgId: string | null;
    userId: string | null;
    actor: string;
    kind: AuthEventKind;
    detail?: Record<string, unknown>;
    ip?: string | null;
    at: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO auth_events (org_id, user_id, actor, kind, detail, ip, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      event.orgId,
      event.userId,
      event.actor,
      event.kind,
      JSON.stringify(event.detail ?? {}),
      event.ip ?? null,
      event.at,
    ],
  );
}
