import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import type { Principal } from '../http/access.ts';

/** How long a proven credential counts as "just now" for sensitive changes. */
export const RECENT_AUTH_MS = 5 * 60_000;

/**
 * Refuses a sensitive change (configuring SSO, adding a second factor) unless the caller is a
 * signed-in person whose session proved a credential within `withinMs` of `now` (the relay's
 * clock): at sign-in, or by POST /v1/auth/reauth. A stolen access token alone cannot pass, and
 * API keys never can: they prove nothing about the person holding them.
 */
export async function requireRecentAuth(
  db: Queryable,
  principal: Principal,
  now: Date,
  withinMs: number = RECENT_AUTH_MS,
): Promise<void> {
  if (principal.sessionId === null)
    throw new ApiError(
      403,
      'SESSION_REQUIRED',
      'This change needs a signed-in person, not an API key: sign in and confirm your password.',
    );
  const [row] = await db.query<{ authenticated_at: Date | null }>(
    'SELECT authenticated_at FROM auth_sessions WHERE id = $1',
    [principal.sessionId],
  );
  const at = row?.authenticated_at ?? null;
  if (at === null || now.getTime() - new Date(at).getTime() > withinMs)
    throw new ApiError(
      403,
      'REAUTH_REQUIRED',
      `Confirm it is you first: POST /v1/auth/reauth with your password or an authenticator code (valid ${Math.round(withinMs / 60_000)} minutes).`,
      { reauthUrl: '/v1/auth/reauth', withinSeconds: Math.round(withinMs / 1000) },
    );
}

/** Records that the session's user just proved a credential again. */
export async function markReauthenticated(db: Queryable, sessionId: string, now: Date): Promise<void> {
  await db.query('UPDATE auth_sessions SET authenticated_at = $2 WHERE id = $1', [sessionId, now]);
}
