import type { Queryable } from '../db/database.ts';
import { recordAuthEvent } from './auth-events.ts';

/**
 * How far back a password reset reaches: a second factor added this recently may have been
 * planted by whoever made the reset necessary (issue #13, finding 5), so it goes with the old
 * password. Older factors stay, or a reset would strip every careful user of their passkeys.
 */
export const RESET_REVOKES_FACTORS_ADDED_WITHIN_MS = 24 * 3_600_000;

export interface RemovedFactor {
  factor: 'passkey' | 'totp';
  /** The passkey's id; absent for the authenticator app. */
  id?: string;
  addedAt: string;
}

/**
 * Removes the user's passkeys and authenticator app added within the last 24 hours of `now`
 * (the relay's clock), records each removal, and returns what it removed for the notice mail.
 * A half-finished TOTP enrolment is dropped too: nobody may finish it with the old credentials.
 */
export async function revokeRecentFactors(
  tx: Queryable,
  user: { id: string; org_id: string },
  now: Date,
  ip: string | null,
): Promise<RemovedFactor[]> {
  const since = new Date(now.getTime() - RESET_REVOKES_FACTORS_ADDED_WITHIN_MS);
  const removed: RemovedFactor[] = [];
  const passkeys = await tx.query<{ id: string; created_at: Date }>(
    'DELETE FROM passkeys WHERE user_id = $1 AND created_at > $2 RETURNING id, created_at',
    [user.id, since],
  );
  for (const p of passkeys) {
    removed.push({ factor: 'passkey', id: p.id, addedAt: new Date(p.created_at).toISOString() });
    await recordAuthEvent(tx, {
      orgId: user.org_id,
      userId: user.id,
      actor: `user:${user.id}`,
      kind: 'passkey_removed',
      detail: { passkeyId: p.id, reason: 'password_reset' },
      ip,
      at: now,
    });
  }
  const [row] = await tx.query<{ totp_enabled_at: Date | null }>(
    'SELECT totp_enabled_at FROM users WHERE id = $1 FOR UPDATE',
    [user.id],
  );
  const enabledAt = row?.totp_enabled_at ?? null;
  const totp =
    enabledAt !== null && new Date(enabledAt).getTime() > since.getTime()
      ? { enabled_at: enabledAt }
      : undefined;
  if (totp !== undefined) {
    await tx.query(
      'UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1',
      [user.id],
    );
    await tx.query('DELETE FROM recovery_codes WHERE user_id = $1', [user.id]);
    removed.push({ factor: 'totp', addedAt: new Date(totp.enabled_at).toISOString() });
    await recordAuthEvent(tx, {
      orgId: user.org_id,
      userId: user.id,
      actor: `user:${user.id}`,
      kind: 'mfa_revoked',
      detail: { factor: 'totp', reason: 'password_reset' },
      ip,
      at: now,
    });
  }
  await tx.query(
    'UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1 AND totp_enabled_at IS NULL',
    [user.id],
  );
  return removed;
}

/** The notice a user gets after their password changed by reset, naming what was removed. */
export function passwordChangedNotice(email: string, removed: RemovedFactor[], at: Date) {
  const lines = [
    `The password of your CRM Texting account (${email}) was changed at ${at.toISOString()} with a reset link, and every session was signed out.`,
  ];
  if (removed.length > 0) {
    lines.push(
      '',
      'These sign-in factors were added in the 24 hours before and have been removed, in case someone else added them:',
      ...removed.map((r) =>
        r.factor === 'passkey'
          ? `- a passkey (id ${r.id}) added at ${r.addedAt}`
          : `- an authenticator app added at ${r.addedAt}`,
      ),
      '',
      'If you added them yourself, add them again after signing in.',
    );
  }
  lines.push('', 'If you did not reset your password, tell your administrator at once.');
  return { to: email, subject: 'Your CRM Texting password was changed', text: lines.join('\n') };
}
