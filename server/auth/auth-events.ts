import { appendAudit } from '../audit/audit-log.ts';
import { type Queryable, withinTransaction } from '../db/database.ts';
import { maskPhone } from '../phone.ts';

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

/** Each auth event's stable name in the audit log. */
const AUDIT_ACTIONS: Record<AuthEventKind, string> = {
  sign_in: 'auth.sign_in',
  sign_in_failed: 'auth.sign_in_failed',
  sign_out: 'auth.sign_out',
  locked_out: 'auth.locked_out',
  mfa_enrolled: 'auth.mfa_enrolled',
  recovery_code_used: 'auth.recovery_code_used',
  refresh_reuse: 'auth.refresh_reuse',
  session_revoked: 'auth.session_revoked',
  password_reset_requested: 'auth.password_reset_requested',
  password_changed: 'auth.password_changed',
  email_verified: 'auth.email_verified',
  user_created: 'user.created',
  role_changed: 'user.role_changed',
  role_created: 'role.created',
  deactivated: 'user.deactivated',
  passkey_removed: 'auth.passkey_removed',
  mfa_revoked: 'auth.mfa_revoked',
  reveal: 'pii.reveal',
  consent_override: 'consent.overridden',
  reauthenticated: 'auth.reauthenticated',
  reauth_failed: 'auth.reauth_failed',
  api_key_created: 'apikey.created',
  api_key_revoked: 'apikey.revoked',
  sso_linked: 'auth.sso_linked',
  sso_configured: 'settings.sso_changed',
};

type AuthEvent = {
  orgId: string | null;
  userId: string | null;
  actor: string;
  kind: AuthEventKind;
  detail?: Record<string, unknown>;
  ip?: string | null;
  at: Date;
};

/**
 * Appends to auth_events (append-only by trigger), the evidence behind every identity change, and
 * to the org's hash-chained audit log in the same transaction. An event with no org (a failed
 * sign-in for an unknown address) has no org's chain to join and stays in auth_events only.
 */
export async function recordAuthEvent(db: Queryable, event: AuthEvent): Promise<void> {
  if (event.orgId === null) await recordBoth(db, event);
  else await withinTransaction(db, (tx) => recordBoth(tx, event));
}

async function recordBoth(db: Queryable, event: AuthEvent): Promise<void> {
  const detail = { ...(event.detail ?? {}) };
  // A number shows masked, here and in the audit log: auditors read it without pii.view, and a
  // customer's number is stored nowhere in clear (server/crypto/phone-tokens.ts).
  if (typeof detail.phone === 'string' && detail.phone.startsWith('+'))
    detail.phone = maskPhone(detail.phone);
  await db.query(
    `INSERT INTO auth_events (org_id, user_id, actor, kind, detail, ip, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [event.orgId, event.userId, event.actor, event.kind, JSON.stringify(detail), event.ip ?? null, event.at],
  );
  if (event.orgId === null) return;
  const roles =
    event.kind === 'role_changed' ? { before: { role: detail.from }, after: { role: detail.to } } : {};
  await appendAudit(db, {
    orgId: event.orgId,
    actor: event.actor,
    action: AUDIT_ACTIONS[event.kind],
    target: auditTarget(event),
    at: event.at,
    detail,
    ip: event.ip ?? null,
    ...roles,
  });
}

function auditTarget(event: AuthEvent): { type: string; id: string } | null {
  const keyId = event.detail?.keyId;
  if (typeof keyId === 'string') return { type: 'api_key', id: keyId };
  const contact = event.detail?.contact as { crm?: unknown; objectType?: unknown; id?: unknown } | undefined;
  if (contact !== undefined && typeof contact.id === 'string')
    return { type: 'contact', id: `${String(contact.crm)}:${String(contact.objectType)}:${contact.id}` };
  if (event.userId !== null) return { type: 'user', id: event.userId };
  return null;
}
