import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { recordAuthEvent } from './auth-events.ts';
import { type RemovedFactor, revokeRecentFactors } from './factor-revocation.ts';
import { consumeLink, getUser, markEmailVerified, setPassword, type UserRow } from './users.ts';

/**
 * Completes a password reset with its single-use link: the new password signs every session
 * out, and second factors added lately go too (issue #13, finding 5). Call inside a transaction.
 */
export async function resetPassword(
  tx: Queryable,
  input: { token: string; password: string; ip: string },
  now: Date,
): Promise<{ user: UserRow; removed: RemovedFactor[] }> {
  const userId = await consumeLink(tx, 'reset_password', input.token, now);
  const user = userId === null ? null : await getUser(tx, userId);
  if (user === null || user.status !== 'active')
    throw new ApiError(
      400,
      'INVALID_LINK',
      'This link is unknown, already used or expired; ask for a new one.',
    );
  await setPassword(tx, user, input.password, now);
  const removed = await revokeRecentFactors(tx, user, now, input.ip);
  return { user, removed };
}

/** Proves an address with its single-use link; audited as email_verified. */
export async function verifyEmail(db: Queryable, token: string, now: Date): Promise<void> {
  const userId = await consumeLink(db, 'verify_email', token, now);
  if (userId === null)
    throw new ApiError(400, 'INVALID_LINK', 'This link is unknown, already used or expired.');
  const user = await markEmailVerified(db, userId, now);
  await recordAuthEvent(db, {
    orgId: user?.org_id ?? null,
    userId,
    actor: `user:${userId}`,
    kind: 'email_verified',
    at: now,
  });
}
