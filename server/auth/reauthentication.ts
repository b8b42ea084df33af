import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { recordAuthEvent } from './auth-events.ts';
import { verifyPassword } from './passwords.ts';
import { markReauthenticated, RECENT_AUTH_MS } from './recent-auth.ts';
import { checkUnderLimits, reauthLimits } from './throttle.ts';
import { redeemTotpCode, type TotpSecrets } from './totp-secrets.ts';
import { lockActiveUser, type UserRow } from './users.ts';

/** The signed-in person proving a credential again, and how. */
export interface Reauthentication {
  orgId: string;
  userId: string;
  sessionId: string;
  actor: string;
  ip: string;
  proof: { password: string } | { code: string };
}

/**
 * Checks the password or authenticator code of a signed-in session's user; on success the
 * session counts as freshly authenticated (requireRecentAuth) until the returned time. Counted
 * before the credential is checked (finding 8); refusals that check nothing take the count back.
 */
export async function reauthenticate(
  deps: { db: Database; totpSecrets: TotpSecrets; log: { warn(details: object, message: string): void } },
  who: Reauthentication,
  now: Date,
): Promise<Date> {
  const { db } = deps;
  const limits = reauthLimits(who.userId);
  if ('code' in who.proof) await deps.totpSecrets.ready();
  const proven = await checkUnderLimits(db, limits, limits, now, () =>
    db.transaction(async (tx) => {
      const user = await lockActiveUser(tx, who.userId);
      if (user === null || !(await proofHolds(tx, deps, user, who.proof, now))) return null;
      await markReauthenticated(tx, who.sessionId, now);
      // An authenticator code is a second factor: it also counts for step-up (large payment requests).
      if ('code' in who.proof)
        await tx.query('UPDATE auth_sessions SET second_factor_at = $2 WHERE id = $1', [who.sessionId, now]);
      await recordReauth(tx, who, 'reauthenticated', { with: method(who) }, now);
      return true;
    }),
  );
  if (proven === null) {
    await recordReauth(db, who, 'reauth_failed', { method: method(who) }, now);
    // 403, not 401: the session itself is still good, only this proof failed.
    throw new ApiError(403, 'REAUTH_FAILED', 'The password or code is not right.');
  }
  return new Date(now.getTime() + RECENT_AUTH_MS);
}

const method = (who: Reauthentication) => ('password' in who.proof ? 'password' : 'totp');

async function proofHolds(
  tx: Queryable,
  deps: { totpSecrets: TotpSecrets; log: { warn(details: object, message: string): void } },
  user: UserRow,
  proof: Reauthentication['proof'],
  now: Date,
): Promise<boolean> {
  if ('password' in proof) {
    if (user.password_hash === null)
      throw new ApiError(
        409,
        'NO_PASSWORD',
        'Your account has no password (it signs in through SSO or a passkey): sign in again instead.',
      );
    return verifyPassword(proof.password, user.password_hash);
  }
  if (user.totp_enabled_at === null)
    throw new ApiError(409, 'NO_AUTHENTICATOR', 'Your account has no authenticator app enrolled.');
  return redeemTotpCode(tx, deps.totpSecrets, user, proof.code, now, deps.log);
}

async function recordReauth(
  db: Queryable,
  who: Reauthentication,
  kind: 'reauthenticated' | 'reauth_failed',
  detail: Record<string, string>,
  now: Date,
): Promise<void> {
  await recordAuthEvent(db, {
    orgId: who.orgId,
    userId: who.userId,
    actor: who.actor,
    kind,
    detail: { sessionId: who.sessionId, ...detail },
    ip: who.ip,
    at: now,
  });
}
