import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId, randomToken, sha256 } from '../ids.ts';
import { recordAuthEvent } from './auth-events.ts';
import { hasPasskey } from './passkeys.ts';
import type { VerifiedAssertion } from './saml-assertion.ts';
import type { SamlSettingsRow } from './saml-settings.ts';
import type { UserRow } from './users.ts';

/** Whom an assertion signs in, or the existing account it may not sign into before a link. */
export type SsoAccount = { kind: 'user'; user: UserRow } | { kind: 'not_linked'; user: UserRow };

/** True when the account has something of its own to protect: a password or a second factor. */
async function hasOwnCredential(tx: Queryable, user: UserRow): Promise<boolean> {
  return user.password_hash !== null || user.totp_enabled_at !== null || (await hasPasskey(tx, user.id));
}

/**
 * Finds the org's user for the asserted email, or provisions one with the default role (linked
 * to the assertion's subject). An existing account is signed into only when it is linked to this
 * IdP and this NameID, or when it has no credential of its own yet (an invited user, or one made
 * by SSO before links existed): then the first assertion links it. Anyone else with a password
 * or second factor must link first, or whoever controls the IdP could become them.
 */
export async function accountForAssertion(
  tx: Queryable,
  settings: SamlSettingsRow,
  verified: VerifiedAssertion,
  now: Date,
): Promise<SsoAccount> {
  const [existing] = await tx.query<UserRow>(
    'SELECT * FROM users WHERE org_id = $1 AND email = $2 FOR UPDATE',
    [settings.org_id, verified.email],
  );
  if (existing !== undefined) {
    if (existing.status !== 'active')
      throw new ApiError(403, 'USER_DEACTIVATED', 'This account is deactivated.');
    const linkedToThisIdp = existing.sso_idp_entity_id === settings.idp_entity_id;
    if (linkedToThisIdp && existing.sso_name_id === verified.nameId) return { kind: 'user', user: existing };
    if (linkedToThisIdp || (await hasOwnCredential(tx, existing)))
      return { kind: 'not_linked', user: existing };
    const linked = await linkSsoIdentity(tx, existing, settings.idp_entity_id, verified.nameId, now, {
      actor: 'saml',
      via: 'first_sso_sign_in',
    });
    return { kind: 'user', user: linked };
  }
  const id = newId();
  const [created] = await tx.query<UserRow>(
    `INSERT INTO users (id, org_id, email, role, email_verified_at, created_at, sso_idp_entity_id, sso_name_id, sso_linked_at)
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $5) RETURNING *`,
    [
      id,
      settings.org_id,
      verified.email,
      settings.default_role,
      now,
      settings.idp_entity_id,
      verified.nameId,
    ],
  );
  await recordAuthEvent(tx, {
    orgId: settings.org_id,
    userId: id,
    actor: 'saml',
    kind: 'user_created',
    detail: { role: settings.default_role, via: 'saml_jit', nameId: verified.nameId },
    at: now,
  });
  return { kind: 'user', user: created as UserRow };
}

/** Records that assertions of this IdP for this NameID may sign the user in; audited as sso_linked. */
export async function linkSsoIdentity(
  tx: Queryable,
  user: UserRow,
  idpEntityId: string,
  nameId: string,
  now: Date,
  by: { actor: string; via: 'first_sso_sign_in' | 'credential' | 'owner'; ip?: string | null },
): Promise<UserRow> {
  const [linked] = await tx.query<UserRow>(
    'UPDATE users SET sso_idp_entity_id = $2, sso_name_id = $3, sso_linked_at = $4 WHERE id = $1 RETURNING *',
    [user.id, idpEntityId, nameId, now],
  );
  await recordAuthEvent(tx, {
    orgId: user.org_id,
    userId: user.id,
    actor: by.actor,
    kind: 'sso_linked',
    detail: {
      idpEntityId,
      nameId,
      via: by.via,
      ...(user.sso_name_id === null ? {} : { replaced: user.sso_name_id }),
    },
    ip: by.ip ?? null,
    at: now,
  });
  return linked as UserRow;
}

/** How long a browser's one-time code may be traded for a session. */
export const SAML_CODE_TTL_MS = 2 * 60_000;

/** A single-use code standing for a signed-in user, for the browser redirect after the ACS. */
export async function issueSamlCode(tx: Queryable, user: UserRow, now: Date): Promise<string> {
  const code = randomToken(32);
  await tx.query('DELETE FROM saml_codes WHERE expires_at <= $1', [now]);
  await tx.query('INSERT INTO saml_codes (code_hash, org_id, user_id, expires_at) VALUES ($1, $2, $3, $4)', [
    sha256(code),
    user.org_id,
    user.id,
    new Date(now.getTime() + SAML_CODE_TTL_MS),
  ]);
  return code;
}

/** Uses a code once: its user if the code is known, unused, unexpired and the user still active. */
export async function consumeSamlCode(tx: Queryable, code: string, now: Date): Promise<UserRow | null> {
  const rows = await tx.query<{ user_id: string }>(
    `UPDATE saml_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
     RETURNING user_id`,
    [sha256(code), now],
  );
  const userId = rows[0]?.user_id;
  if (userId === undefined) return null;
  const [user] = await tx.query<UserRow>(`SELECT * FROM users WHERE id = $1 AND status = 'active'`, [userId]);
  return user ?? null;
}
