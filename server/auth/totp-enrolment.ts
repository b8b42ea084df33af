import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import type { Principal } from '../http/access.ts';
import { recordAuthEvent } from './auth-events.ts';
import { replaceRecoveryCodes } from './recovery-codes.ts';
import { completeEnrolment } from './sessions.ts';
import { matchTotp, newTotpSecret, otpauthUri } from './totp.ts';
import type { TotpSecrets } from './totp-secrets.ts';
import { getUser, type UserRow } from './users.ts';

const alreadyEnrolled = () =>
  new ApiError(409, 'ALREADY_ENROLLED', 'An authenticator app is already enrolled.');

/** Starts enrolling an authenticator app: a fresh secret, stored sealed until a code confirms it. */
export async function beginTotpEnrolment(
  db: Queryable,
  totpSecrets: TotpSecrets,
  userId: string,
): Promise<{ secret: string; otpauthUri: string }> {
  const user = await getUser(db, userId);
  if (user === null) throw new ApiError(404, 'USER_NOT_FOUND', 'No such user.');
  if (user.totp_enabled_at !== null) throw alreadyEnrolled();
  const secret = newTotpSecret();
  await db.query('UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1', [
    user.id,
    await totpSecrets.seal(user.id, secret),
  ]);
  return { secret, otpauthUri: otpauthUri(secret, user.email) };
}

/**
 * Confirms the authenticator app with a code from it: the factor is on, fresh recovery codes
 * replace any old ones, and the session that had to enrol gets its full role. Audited as
 * mfa_enrolled. Call inside a transaction (after totpSecrets.ready()).
 */
export async function confirmTotpEnrolment(
  tx: Queryable,
  totpSecrets: TotpSecrets,
  p: Pick<Principal, 'orgId' | 'actor'> & { userId: string; sessionId: string | null },
  code: string,
  now: Date,
): Promise<string[]> {
  const [user] = await tx.query<UserRow>('SELECT * FROM users WHERE id = $1 FOR UPDATE', [p.userId]);
  if (user === undefined || user.totp_secret === null)
    throw new ApiError(409, 'NOT_ENROLLING', 'Start with POST /v1/auth/totp/enrol.');
  if (user.totp_enabled_at !== null) throw alreadyEnrolled();
  const stored = await totpSecrets.open(p.userId, user.totp_secret);
  if (stored === null) throw new ApiError(409, 'NOT_ENROLLING', 'Start again with POST /v1/auth/totp/enrol.');
  const step = matchTotp(stored.secret, code, now, null);
  if (step === null)
    throw new ApiError(422, 'INVALID_CODE', 'The code does not match; check the app and try the next one.');
  const sealed = stored.plaintext ? await totpSecrets.seal(p.userId, stored.secret) : user.totp_secret;
  await tx.query(
    'UPDATE users SET totp_enabled_at = $2, totp_last_step = $3, totp_secret = $4 WHERE id = $1',
    [p.userId, now, step, sealed],
  );
  const codes = await replaceRecoveryCodes(tx, p.userId);
  // Null when enrolling from the invite page, before any session exists.
  if (p.sessionId !== null) await completeEnrolment(tx, p.sessionId);
  await recordAuthEvent(tx, {
    orgId: p.orgId,
    userId: p.userId,
    actor: p.actor,
    kind: 'mfa_enrolled',
    detail: { factor: 'totp' },
    at: now,
  });
  return codes;
}
