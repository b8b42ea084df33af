import { alertOnNewSignInPlace } from '../anomalies/new-device.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { sha256 } from '../ids.ts';
import { recordAuthEvent } from './auth-events.ts';
import { parseAuthSettings } from './auth-settings.ts';
import { hasPasskey } from './passkeys.ts';
import { createSession, type IssuedTokens } from './sessions.ts';
import { issueLink, type UserRow } from './users.ts';

/**
 * Sign-in policy, decided here once for every method (password, authenticator code, recovery
 * code, passkey, SAML): which second factor a first factor still needs, which stage a new
 * session gets, and what the audit log says about it.
 */

/** Where a sign-in came from: the caller's address and browser, at the relay's time. */
export interface SignInContext {
  ip: string;
  userAgent: string | undefined;
  now: Date;
  /**
   * How the user proved who they are ('passkey', 'password+passkey', 'saml'), written to the
   * sign_in event. Password sign-ins (with or without an authenticator code) never named one.
   */
  method?: string;
}

/** The context of a sign-in request: its address and browser, at the relay's time. */
export function signInContext(
  request: { ip: string; headers: { 'user-agent'?: string } },
  now: Date,
): SignInContext {
  return { ip: request.ip, userAgent: request.headers['user-agent'], now };
}

/** The second factors a user has enrolled, in the order sign-in offers them. */
export async function enrolledFactors(tx: Queryable, user: UserRow): Promise<string[]> {
  const passkey = await hasPasskey(tx, user.id);
  return [...(user.totp_enabled_at !== null ? ['totp'] : []), ...(passkey ? ['passkey'] : [])];
}

/**
 * Opens a session for a user who has proved everything sign-in asks of them. Where the org
 * requires a second factor and the user has none, the session may only enrol one ('enrol').
 * Audited as sign_in. Call inside a transaction.
 */
export async function startSession(tx: Queryable, user: UserRow, ctx: SignInContext): Promise<IssuedTokens> {
  const [org] = await tx.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
    user.org_id,
  ]);
  const policy = parseAuthSettings(org?.settings);
  // A passkey counts as a second factor, like an authenticator app.
  const secondFactor = (await enrolledFactors(tx, user)).length > 0;
  const stage = policy.requireSecondFactor && !secondFactor ? 'enrol' : 'full';
  const tokens = await createSession(tx, {
    orgId: user.org_id,
    userId: user.id,
    stage,
    now: ctx.now,
    ip: ctx.ip,
    userAgent: ctx.userAgent ?? null,
  });
  await recordAuthEvent(tx, {
    orgId: user.org_id,
    userId: user.id,
    actor: `user:${user.id}`,
    kind: 'sign_in',
    detail: {
      sessionId: tokens.sessionId,
      stage,
      ...(ctx.method === undefined ? {} : { method: ctx.method }),
    },
    ip: ctx.ip,
    at: ctx.now,
  });
  await alertOnNewSignInPlace(tx, {
    orgId: user.org_id,
    userId: user.id,
    sessionId: tokens.sessionId,
    userAgent: ctx.userAgent ?? null,
    ip: ctx.ip,
    now: ctx.now,
  });
  return tokens;
}

/** What a first factor (a password, an SSO assertion) yields: a session, or the second step it needs. */
export type SignInStep =
  | { kind: 'session'; tokens: IssuedTokens }
  | { kind: 'second_factor'; mfaToken: string; factors: string[] };

/**
 * After a first factor: an enrolled authenticator app or passkey is asked for (POST
 * /v1/auth/mfa, /v1/auth/mfa/passkey) before any session exists; otherwise a session opens.
 * Like the session itself, the sign_in event is written when the second step opens one.
 */
export async function afterFirstFactor(
  tx: Queryable,
  user: UserRow,
  ctx: SignInContext,
): Promise<SignInStep> {
  const factors = await enrolledFactors(tx, user);
  if (factors.length > 0)
    return { kind: 'second_factor', mfaToken: await issueLink(tx, 'mfa', user.id, ctx.now), factors };
  return { kind: 'session', tokens: await startSession(tx, user, ctx) };
}

/** The JSON a new session is answered with. */
export function tokensBody(t: IssuedTokens) {
  return {
    sessionId: t.sessionId,
    accessToken: t.accessToken,
    accessTokenExpiresAt: t.accessExpiresAt,
    refreshToken: t.refreshToken,
    requireSignInEachBrowserSession: t.requireSignInEachBrowserSession,
    ...(t.stage === 'enrol' ? { secondFactorEnrolmentRequired: true as const } : {}),
  };
}

/** The JSON answer of a sign-in step: a session (201) or the second step it still needs (200). */
export function signInBody(step: SignInStep) {
  return step.kind === 'session'
    ? { status: 201 as const, body: tokensBody(step.tokens) }
    : {
        status: 200 as const,
        body: { mfaRequired: true as const, mfaToken: step.mfaToken, factors: step.factors },
      };
}

/** The user a pending second step (the MFA token a first factor handed out) belongs to. */
export async function pendingMfaUser(db: Queryable, mfaToken: string, now: Date): Promise<string> {
  const [pending] = await db.query<{ user_id: string }>(
    `SELECT user_id FROM auth_tokens WHERE token_hash = $1 AND kind = 'mfa' AND used_at IS NULL AND expires_at > $2`,
    [sha256(mfaToken), now],
  );
  if (pending === undefined)
    throw new ApiError(
      401,
      'INVALID_MFA_TOKEN',
      'The sign-in step expired or was already used; sign in again.',
    );
  return pending.user_id;
}

/** Audits a refused sign-in (sign_in_failed): the evidence of someone guessing at an account. */
export async function recordSignInFailed(
  db: Queryable,
  failure: {
    orgId: string | null;
    userId: string | null;
    detail: Record<string, unknown>;
    ip: string;
    now: Date;
  },
): Promise<void> {
  await recordAuthEvent(db, {
    orgId: failure.orgId,
    userId: failure.userId,
    actor: 'anonymous',
    kind: 'sign_in_failed',
    detail: failure.detail,
    ip: failure.ip,
    at: failure.now,
  });
}
