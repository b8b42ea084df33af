import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

export function lockedOut(seconds: number, extra: Record<string, string> = {}): ApiError {
  const minutes = Math.ceil(seconds / 60);
  return new ApiError(
    429,
    'TOO_MANY_ATTEMPTS',
    `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset your password.`,
    { retryAfterSeconds: seconds, ...extra },
  );
}

// --- Progressive, atomic limits (issue #13, finding 8) ---------------------------------------

/**
 * One counter: `threshold` failures in a row are allowed, the one that reaches it starts a lock
 * of `lockMs`, and each further failure (once a lock has passed) doubles it up to `maxLockMs`. A
 * quiet spell of `forgetAfterMs` since the last failure starts the count over.
 */
export interface Limit {
  scope: string;
  subject: string;
  threshold: number;
  lockMs: number;
  maxLockMs: number;
  forgetAfterMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The numbers for password sign-in, and why.
 *
 * - Account from one address (`login:pair`): 5 failures, then 5 minutes, doubling to an hour,
 *   forgotten after a quiet day. A person who mistypes gets five tries and short waits; a guesser
 *   at one address gets about 5 + 24 tries a day, and locks out only themself.
 * - One address across accounts (`login:ip`): 100 failures, then 15 minutes, doubling to an
 *   hour, forgotten after a quiet hour. Far above what an office of people mistyping behind one
 *   NAT or proxy produces (30 failures lock nobody), low enough to stop spraying many accounts.
 * - One account across addresses (`login:account`): 50 failures, then 15 minutes, doubling to an
 *   hour, forgotten after a quiet day; it counts only addresses the account has not signed in
 *   from in the last 30 days, so a botnet spread over many addresses is slowed while the owner at
 *   their usual address is never locked out by strangers. A locked owner elsewhere still gets in
 *   with password plus authenticator code in one request, or a passkey.
 */
export function passwordLimits(email: string, ip: string, knownAddress: boolean): Limit[] {
  const subject = email.toLowerCase();
  return [
    {
      scope: 'login:pair',
      subject: `${subject} ${ip}`,
      threshold: 5,
      lockMs: 5 * MINUTE,
      maxLockMs: HOUR,
      forgetAfterMs: 24 * HOUR,
    },
    {
      scope: 'login:ip',
      subject: ip,
      threshold: 100,
      lockMs: 15 * MINUTE,
      maxLockMs: HOUR,
      forgetAfterMs: HOUR,
    },
    ...(knownAddress
      ? []
      : [
          {
            scope: 'login:account',
            subject,
            threshold: 50,
            lockMs: 15 * MINUTE,
            maxLockMs: HOUR,
            forgetAfterMs: 24 * HOUR,
          },
        ]),
  ];
}

/**
 * While a sign-in is locked, password and authenticator code together still let the owner in;
 * those combined attempts have their own small budget per account and address, because each
 * costs an Argon2 check. Guessing both at once is hopeless (a million codes per password).
 */
export function secondFactorBypassLimit(email: string, ip: string): Limit {
  return {
    scope: 'login:pair+code',
    subject: `${email.toLowerCase()} ${ip}`,
    threshold: 10,
    lockMs: 15 * MINUTE,
    maxLockMs: HOUR,
    forgetAfterMs: 24 * HOUR,
  };
}

/**
 * The second sign-in step (authenticator code, recovery code or passkey after the password) and
 * re-authentication by a signed-in session, which accepts a password or an authenticator code.
 *
 * - Per account (`mfa:account`, `reauth:account`): 5 failures (as before), then 15 minutes,
 *   doubling to 4 hours, forgotten after a quiet day. Whoever gets here already holds the
 *   password or a session, and a 6-digit code has about 3 right answers in a million, so the
 *   budget is per account whatever the address: about 5 + 6 guesses a day, a chance near 1 in
 *   30,000 a day. The owner, who has the authenticator, gets through after one short wait.
 * - Per address (`mfa:ip`): 30 failures (as before), then 15 minutes, doubling to an hour,
 *   forgotten after a quiet hour; bounds one address working through many stolen passwords.
 */
export function mfaLimits(userId: string, ip: string): [Limit, Limit] {
  return [
    {
      scope: 'mfa:account',
      subject: userId,
      threshold: 5,
      lockMs: 15 * MINUTE,
      maxLockMs: 4 * HOUR,
      forgetAfterMs: 24 * HOUR,
    },
    addressCeiling('mfa:ip', ip),
  ];
}

/** See mfaLimits: the same per-account budget, for proving a credential again while signed in. */
export function reauthLimits(userId: string): [Limit] {
  return [
    {
      scope: 'reauth:account',
      subject: userId,
      threshold: 5,
      lockMs: 15 * MINUTE,
      maxLockMs: 4 * HOUR,
      forgetAfterMs: 24 * HOUR,
    },
  ];
}

/**
 * Linking an account to an IdP subject with the account's password (and code): the same numbers
 * as the second step (5 per account, 30 per address), because a link token plus a guessed
 * password would hand the account to whoever controls the IdP subject.
 */
export function ssoLinkLimits(userId: string, ip: string): [Limit, Limit] {
  return [
    {
      scope: 'sso-link:account',
      subject: userId,
      threshold: 5,
      lockMs: 15 * MINUTE,
      maxLockMs: 4 * HOUR,
      forgetAfterMs: 24 * HOUR,
    },
    addressCeiling('sso-link:ip', ip),
  ];
}

/**
 * Passwordless passkey sign-in names no account until the assertion is verified, so only the
 * address is counted: 30 failures (as before), then 15 minutes, doubling to an hour. An assertion
 * cannot be guessed; this bounds the signature checks one address can make the relay do.
 */
export function passkeyLimits(ip: string): [Limit] {
  return [addressCeiling('passkey:ip', ip)];
}

/**
 * Reset requests all count (each sends a mail, none is "wrong"): 3 per account (as before),
 * then 15 minutes, doubling to 4 hours, forgotten after a quiet day, so nobody can fill a
 * stranger's inbox; 20 per address (as before), then 15 minutes, doubling to an hour.
 */
export function resetLimits(email: string, ip: string): [Limit, Limit] {
  return [
    {
      scope: 'reset:account',
      subject: email.toLowerCase(),
      threshold: 3,
      lockMs: 15 * MINUTE,
      maxLockMs: 4 * HOUR,
      forgetAfterMs: 24 * HOUR,
    },
    { ...addressCeiling('reset:ip', ip), threshold: 20 },
  ];
}

/** 30 failures from one address, then 15 minutes doubling to an hour; a quiet hour forgets. */
function addressCeiling(scope: string, ip: string): Limit {
  return { scope, subject: ip, threshold: 30, lockMs: 15 * MINUTE, maxLockMs: HOUR, forgetAfterMs: HOUR };
}

/** Did this account sign in from this address within the last 30 days (by the relay's clock)? */
export async function knownAddress(db: Queryable, email: string, ip: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id
      WHERE u.email = $1 AND s.ip = $2 AND s.created_at > $3 LIMIT 1`,
    [email.toLowerCase(), ip, new Date(now.getTime() - 30 * 24 * HOUR)],
  );
  return rows.length > 0;
}

export type Claim = { ok: true } | { ok: false; retryAfterSeconds: number };

interface CounterRow {
  failures: number;
  last_failure_at: Date | null;
  locked_until: Date | null;
}

const byKey = (a: Limit, b: Limit) =>
  a.scope === b.scope ? (a.subject < b.subject ? -1 : 1) : a.scope < b.scope ? -1 : 1;

/**
 * Counts one attempt against every limit before the credential is checked, as a failure until
 * settled otherwise, in one transaction holding the limits' rows (locked in a fixed order, so two
 * claims never deadlock). If any limit is locked it refuses and counts nothing. Because check and
 * count are one step, 60 parallel attempts get exactly `threshold` credential checks.
 */
export async function claimAttempt(db: Database, limits: Limit[], now: Date): Promise<Claim> {
  const ordered = [...limits].sort(byKey);
  return db.transaction(async (tx) => {
    const rows: CounterRow[] = [];
    for (const limit of ordered) {
      await tx.query('INSERT INTO auth_throttle (scope, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        limit.scope,
        limit.subject,
      ]);
      const [row] = await tx.query<CounterRow>(
        'SELECT failures, last_failure_at, locked_until FROM auth_throttle WHERE scope = $1 AND subject = $2 FOR UPDATE',
        [limit.scope, limit.subject],
      );
      rows.push(row ?? { failures: 0, last_failure_at: null, locked_until: null });
    }
    const waitMs = Math.max(
      0,
      ...rows.map((r) => (r.locked_until === null ? 0 : new Date(r.locked_until).getTime() - now.getTime())),
    );
    if (waitMs > 0) return { ok: false, retryAfterSeconds: Math.ceil(waitMs / 1000) };
    for (const [i, limit] of ordered.entries()) {
      const row = rows[i] as CounterRow;
      const last = row.last_failure_at === null ? null : new Date(row.last_failure_at).getTime();
      const forgotten = last === null || now.getTime() - last > limit.forgetAfterMs;
      const failures = (forgotten ? 0 : row.failures) + 1;
      const lockMs =
        failures >= limit.threshold
          ? Math.min(limit.lockMs * 2 ** Math.min(failures - limit.threshold, 30), limit.maxLockMs)
          : 0;
      await tx.query(
        `UPDATE auth_throttle SET failures = $3, last_failure_at = $4, locked_until = $5
          WHERE scope = $1 AND subject = $2`,
        [limit.scope, limit.subject, failures, now, lockMs === 0 ? null : new Date(now.getTime() + lockMs)],
      );
    }
    return { ok: true };
  });
}

/**
 * Settles a claimed attempt that succeeded: the account-from-this-address counter starts over
 * (`reset`), the shared ceilings take back the one failure the claim counted (`refund`), and a
 * lock that this very attempt started is lifted.
 */
export async function attemptSucceeded(
  db: Database,
  settle: { reset: Limit[]; refund: Limit[] },
): Promise<void> {
  await db.transaction(async (tx) => {
    for (const limit of settle.reset)
      await tx.query('DELETE FROM auth_throttle WHERE scope = $1 AND subject = $2', [
        limit.scope,
        limit.subject,
      ]);
    for (const limit of [...settle.refund].sort(byKey))
      await tx.query(
        `UPDATE auth_throttle SET failures = greatest(failures - 1, 0),
                locked_until = CASE WHEN failures - 1 >= $3 THEN locked_until END
          WHERE scope = $1 AND subject = $2`,
        [limit.scope, limit.subject, limit.threshold],
      );
  });
}

/**
 * Seconds until every one of these limits lets attempts through again, or 0; counts nothing.
 * For steps that check no credential themselves but lead to one (handing out a challenge).
 */
export async function lockedFor(db: Queryable, limits: Limit[], now: Date): Promise<number> {
  let waitMs = 0;
  for (const limit of limits) {
    const [row] = await db.query<{ locked_until: Date | null }>(
      'SELECT locked_until FROM auth_throttle WHERE scope = $1 AND subject = $2',
      [limit.scope, limit.subject],
    );
    if (row?.locked_until != null)
      waitMs = Math.max(waitMs, new Date(row.locked_until).getTime() - now.getTime());
  }
  return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
}

/**
 * One credential check under `limits`, for every route but password sign-in (which has its
 * bypass): the attempt is claimed first (429 TOO_MANY_ATTEMPTS while locked, counting nothing),
 * then `check` runs. A result settles it as a success (`reset` starts over, the other limits
 * take back their count); null leaves it counted as a failure; an ApiError means the request
 * was refused for another reason (no authenticator, code missing, link gone) and the claim is
 * taken back, so such refusals neither lock anyone out nor buy extra guesses.
 */
export async function checkUnderLimits<T>(
  db: Database,
  limits: Limit[],
  reset: Limit[],
  now: Date,
  check: () => Promise<T | null>,
): Promise<T | null> {
  const claim = await claimAttempt(db, limits, now);
  if (!claim.ok) throw lockedOut(claim.retryAfterSeconds);
  let result: T | null;
  try {
    result = await check();
  } catch (error) {
    if (error instanceof ApiError) await attemptSucceeded(db, { reset: [], refund: limits });
    throw error;
  }
  if (result !== null)
    await attemptSucceeded(db, { reset, refund: limits.filter((l) => !reset.includes(l)) });
  return result;
}
