import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { hasPasskey } from './passkeys.ts';
import { verifyPassword } from './passwords.ts';
import type { Permission } from './permissions.ts';
import { linkSsoIdentity } from './saml-accounts.ts';
import { getSamlSettings } from './saml-settings.ts';
import { recordSignInFailed } from './sign-in.ts';
import { consumeSsoLinkRequest, pendingSsoLinkRequest } from './sso-link-requests.ts';
import { checkUnderLimits, ssoLinkLimits } from './throttle.ts';
import { redeemTotpCode, type TotpSecrets } from './totp-secrets.ts';
import { assertMayGrant, type UserRow } from './users.ts';

const invalidLinkToken = () =>
  new ApiError(
    401,
    'INVALID_LINK_TOKEN',
    'The link token is unknown, used or expired; sign in through SSO again.',
  );

/** The holder's proof for linking: the account's password, plus its authenticator code if it has one. */
export interface LinkProof {
  linkToken: string;
  password: string;
  code?: string | undefined;
}

/**
 * Links an account to the IdP subject that named it, on its holder's own proof. Linking must
 * take at least what signing in takes; counted before the password is checked (finding 8), and
 * the refusals that check nothing (no password here, code missing, link gone) take it back.
 */
export async function linkWithCredential(
  deps: { db: Database; totpSecrets: TotpSecrets; log: { warn(details: object, message: string): void } },
  proof: LinkProof,
  ctx: { ip: string; now: Date },
): Promise<UserRow> {
  const { db, totpSecrets } = deps;
  const { now } = ctx;
  const pending = await pendingSsoLinkRequest(db, proof.linkToken, now);
  if (pending === null) throw invalidLinkToken();
  const limits = ssoLinkLimits(pending.userId, ctx.ip);
  if (proof.code !== undefined) await totpSecrets.ready();
  const linked = await checkUnderLimits(db, limits, [limits[0]], now, () =>
    db.transaction(async (tx) => {
      const [user] = await tx.query<UserRow>(
        `SELECT * FROM users WHERE id = $1 AND org_id = $2 AND status = 'active' FOR UPDATE`,
        [pending.userId, pending.orgId],
      );
      const settings = await getSamlSettings(tx, pending.orgId);
      // The IdP was replaced since the assertion: its subject means nothing to the new one.
      if (user === undefined || settings?.idp_entity_id !== pending.idpEntityId) throw invalidLinkToken();
      if (!(await proofHolds(tx, deps, user, proof, now))) return null;
      if (!(await consumeSsoLinkRequest(tx, proof.linkToken, now))) throw invalidLinkToken();
      const by = { actor: `user:${user.id}`, via: 'credential' as const, ip: ctx.ip };
      return linkSsoIdentity(tx, user, pending.idpEntityId, pending.nameId, now, by);
    }),
  );
  if (linked === null) {
    const failure = { orgId: pending.orgId, userId: pending.userId, detail: { method: 'sso_link' } };
    await recordSignInFailed(db, { ...failure, ip: ctx.ip, now });
    throw new ApiError(401, 'INVALID_CREDENTIALS', 'The password or authenticator code is not right.');
  }
  return linked;
}

async function proofHolds(
  tx: Queryable,
  deps: { totpSecrets: TotpSecrets; log: { warn(details: object, message: string): void } },
  user: UserRow,
  proof: LinkProof,
  now: Date,
): Promise<boolean> {
  const passkeyOnly = user.totp_enabled_at === null && (await hasPasskey(tx, user.id));
  if (user.password_hash === null || passkeyOnly)
    throw new ApiError(
      409,
      'SSO_LINK_NEEDS_OWNER',
      'This account cannot be linked with a password here (it has none, or signs in with a passkey): ask an owner to link it.',
    );
  if (user.totp_enabled_at !== null && proof.code === undefined)
    throw new ApiError(400, 'CODE_REQUIRED', 'Send "code" from your authenticator app with your password.');
  if (!(await verifyPassword(proof.password, user.password_hash))) return false;
  return (
    user.totp_enabled_at === null ||
    redeemTotpCode(tx, deps.totpSecrets, user, proof.code ?? '', now, deps.log)
  );
}

/**
 * An owner links a user of their org to an IdP subject. Linking lets the IdP sign in as the
 * user: nobody links an account that may do more than they. Call inside a transaction.
 */
export async function linkByOwner(
  tx: Queryable,
  owner: { orgId: string; actor: string; permissions: readonly Permission[]; ip: string },
  target: { userId: string; idpEntityId: string; nameId: string },
  now: Date,
): Promise<UserRow> {
  const [user] = await tx.query<UserRow>('SELECT * FROM users WHERE id = $1 AND org_id = $2 FOR UPDATE', [
    target.userId,
    owner.orgId,
  ]);
  if (user === undefined) throw new ApiError(404, 'USER_NOT_FOUND', 'No such user in your organisation.');
  if (user.status !== 'active') throw new ApiError(403, 'USER_DEACTIVATED', 'This account is deactivated.');
  await assertMayGrant(tx, owner.orgId, user.role, owner.permissions);
  const by = { actor: owner.actor, via: 'owner' as const, ip: owner.ip };
  return linkSsoIdentity(tx, user, target.idpEntityId, target.nameId, now, by);
}
