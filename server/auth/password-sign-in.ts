import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { recordAuthEvent } from './auth-events.ts';
import { burnPasswordCheck, verifyPassword } from './passwords.ts';
import { redeemRecoveryCode } from './recovery-codes.ts';
import { ssoRequired } from './saml-settings.ts';
import type { IssuedTokens } from './sessions.ts';
import {
  afterFirstFactor,
  pendingMfaUser,
  recordSignInFailed,
  type SignInContext,
  type SignInStep,
  startSession,
} from './sign-in.ts';
import {
  attemptSucceeded,
  checkUnderLimits,
  claimAttempt,
  knownAddress,
  type Limit,
  lockedOut,
  mfaLimits,
  passwordLimits,
  secondFactorBypassLimit,
} from './throttle.ts';
import { redeemTotpCode, type TotpSecrets } from './totp-secrets.ts';
import { activeUsersByEmail, consumeLink, lockActiveUser, type UserRow } from './users.ts';

/** What password sign-in needs besides the request: the database, sealed TOTP secrets, a log. */
export interface PasswordSignInDeps {
  db: Database;
  totpSecrets: TotpSecrets;
  log: { warn(details: object, message: string): void };
}

/** A password sign-in as the client sent it. */
export interface PasswordAttempt {
  email: string;
  password: string;
  orgId: string | undefined;
  /** Only read while this sign-in is locked: the authenticator code that lets the owner in anyway. */
  code: string | undefined;
}

const badCredentials = () => new ApiError(401, 'INVALID_CREDENTIALS', 'The email or password is not right.');

const bypassHint = {
  secondFactor:
    'Send the password again together with "code" from your authenticator app to sign in now, or sign in with a passkey.',
};

const ssoOnly = () =>
  new ApiError(403, 'SSO_REQUIRED', 'Your organisation signs in through its identity provider (SAML).');

/** The active account this email and password open (Argon2 cost paid even when none exists). */
async function passwordUser(db: Queryable, attempt: PasswordAttempt) {
  const candidates = await activeUsersByEmail(db, attempt.email, attempt.orgId);
  let user: UserRow | null = null;
  for (const candidate of candidates) {
    if (
      candidate.password_hash !== null &&
      (await verifyPassword(attempt.password, candidate.password_hash))
    ) {
      user = candidate;
      break;
    }
  }
  // Unknown emails cost one Argon2 check too, so timing does not tell which accounts exist.
  if (candidates.every((c) => c.password_hash === null)) await burnPasswordCheck(attempt.password);
  return { user, first: candidates[0] };
}

/**
 * POST /v1/auth/login: the password, counted against the address and the account before it is
 * checked (finding 8); then the second step the account needs, or a session.
 */
export async function signInWithPassword(
  deps: PasswordSignInDeps,
  attempt: PasswordAttempt,
  ctx: SignInContext,
): Promise<SignInStep> {
  const { db } = deps;
  const limits = passwordLimits(
    attempt.email,
    ctx.ip,
    await knownAddress(db, attempt.email, ctx.ip, ctx.now),
  );
  const [pair, ...ceilings] = limits as [Limit, ...Limit[]];
  const claim = await claimAttempt(db, limits, ctx.now);
  if (!claim.ok) {
    if (attempt.code === undefined) throw lockedOut(claim.retryAfterSeconds, bypassHint);
    const tokens = await signInDespiteLock(
      deps,
      attempt,
      attempt.code,
      { pair, wait: claim.retryAfterSeconds },
      ctx,
    );
    return { kind: 'session', tokens };
  }
  const { user, first } = await passwordUser(db, attempt);
  if (user === null) {
    const failure = {
      orgId: first?.org_id ?? null,
      userId: first?.id ?? null,
      detail: { email: attempt.email },
    };
    await recordSignInFailed(db, { ...failure, ip: ctx.ip, now: ctx.now });
    throw badCredentials();
  }
  await attemptSucceeded(db, { reset: [pair], refund: ceilings });
  if (await ssoRequired(db, user.org_id)) throw ssoOnly();
  return db.transaction((tx) => afterFirstFactor(tx, user, ctx));
}

/**
 * A locked sign-in never keeps out someone who proves a second factor: the right password and
 * a fresh authenticator code together sign in at once. Anything less gets the same 429 as the
 * lock itself, so a guesser learns nothing about the password.
 */
async function signInDespiteLock(
  deps: PasswordSignInDeps,
  attempt: PasswordAttempt,
  code: string,
  lock: { pair: Limit; wait: number },
  ctx: SignInContext,
): Promise<IssuedTokens> {
  const { db, totpSecrets } = deps;
  const bypass = secondFactorBypassLimit(attempt.email, ctx.ip);
  const claim = await claimAttempt(db, [bypass], ctx.now);
  if (!claim.ok) throw lockedOut(Math.max(lock.wait, claim.retryAfterSeconds), bypassHint);
  const { user, first } = await passwordUser(db, attempt);
  let tokens: IssuedTokens | null = null;
  if (user !== null && user.totp_enabled_at !== null && !(await ssoRequired(db, user.org_id))) {
    await totpSecrets.ready();
    tokens = await db.transaction(async (tx) => {
      const locked = await lockActiveUser(tx, user.id);
      if (locked === null || !(await redeemTotpCode(tx, totpSecrets, locked, code, ctx.now, deps.log)))
        return null;
      return startSession(tx, locked, ctx);
    });
  }
  if (tokens === null) {
    const failure = { orgId: first?.org_id ?? null, userId: first?.id ?? null };
    await recordSignInFailed(db, {
      ...failure,
      detail: { email: attempt.email, whileLocked: true },
      ...at(ctx),
    });
    throw lockedOut(lock.wait, bypassHint);
  }
  // The owner proved two factors: the lock on their own address is lifted.
  await attemptSucceeded(db, { reset: [lock.pair, bypass], refund: [] });
  return tokens;
}

const at = (ctx: SignInContext) => ({ ip: ctx.ip, now: ctx.now });

/** The second step by authenticator code or recovery code (exactly one of them). */
export type CodeFactor = { code: string } | { recoveryCode: string };

/**
 * POST /v1/auth/mfa: the second step after a password (or SSO assertion) by authenticator code
 * or recovery code, counted before the code is checked, in one step with the check (finding 8).
 */
export async function secondStepWithCode(
  deps: PasswordSignInDeps,
  mfaToken: string,
  factor: CodeFactor,
  ctx: SignInContext,
): Promise<IssuedTokens> {
  const { db, totpSecrets } = deps;
  const userId = await pendingMfaUser(db, mfaToken, ctx.now);
  const limits = mfaLimits(userId, ctx.ip);
  if ('code' in factor) await totpSecrets.ready();
  const tokens = await checkUnderLimits(db, limits, [limits[0]], ctx.now, () =>
    db.transaction(async (tx) => {
      const user = await lockActiveUser(tx, userId);
      if (user === null || user.totp_secret === null) return null;
      if (!(await redeemCodeFactor(tx, deps, user, factor, ctx))) return null;
      if ((await consumeLink(tx, 'mfa', mfaToken, ctx.now)) === null) return null;
      return startSession(tx, user, ctx);
    }),
  );
  if (tokens === null) {
    // The evidence of guessing at someone's second factor (their password is known).
    const [user] = await db.query<{ org_id: string }>('SELECT org_id FROM users WHERE id = $1', [userId]);
    const method = 'code' in factor ? 'totp' : 'recovery_code';
    await recordSignInFailed(db, { orgId: user?.org_id ?? null, userId, detail: { method }, ...at(ctx) });
    throw new ApiError(401, 'INVALID_CODE', 'The code is not right (or was already used).');
  }
  return tokens;
}

async function redeemCodeFactor(
  tx: Queryable,
  deps: PasswordSignInDeps,
  user: UserRow,
  factor: CodeFactor,
  ctx: SignInContext,
): Promise<boolean> {
  if ('code' in factor) return redeemTotpCode(tx, deps.totpSecrets, user, factor.code, ctx.now, deps.log);
  if (!(await redeemRecoveryCode(tx, user.id, factor.recoveryCode, ctx.now))) return false;
  await recordAuthEvent(tx, {
    orgId: user.org_id,
    userId: user.id,
    actor: `user:${user.id}`,
    kind: 'recovery_code_used',
    ip: ctx.ip,
    at: ctx.now,
  });
  return true;
}
