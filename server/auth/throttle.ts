import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/** Failed attempts counted over this window; a lockout lasts until the oldest counted one leaves it. */
export const THROTTLE_WINDOW_MS = 15 * 60_000;

export interface ThrottleRule {
  scope: string;
  subject: string;
  limit: number;
}

/** Seconds until the first exceeded rule lets attempts through again, or 0. */
export async function retryAfterSeconds(db: Queryable, rules: ThrottleRule[], now: Date): Promise<number> {
  let wait = 0;
  for (const rule of rules) {
    const rows = await db.query<{ at: Date }>(
      `SELECT at FROM auth_attempts WHERE scope = $1 AND subject = $2 AND at > $3
        ORDER BY at DESC LIMIT $4`,
      [rule.scope, rule.subject, new Date(now.getTime() - THROTTLE_WINDOW_MS), rule.limit],
    );
    const oldest = rows.at(-1);
    if (rows.length >= rule.limit && oldest !== undefined) {
      const until = new Date(oldest.at).getTime() + THROTTLE_WINDOW_MS;
      wait = Math.max(wait, Math.ceil((until - now.getTime()) / 1000));
    }
  }
  return wait;
}

export function lockedOut(seconds: number, extra: Record<string, string> = {}): ApiError {
  const minutes = Math.ceil(seconds / 60);
  return new ApiError(
    429,
    'TOO_MANY_ATTEMPTS',
    `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset your password.`,
    { retryAfterSeconds: seconds, ...extra },
  );
}

/** Throws 429 TOO_MANY_ATTEMPTS (with the wait) while any rule is exceeded. */
export async function assertNotThrottled(db: Queryable, rules: ThrottleRule[], now: Date): Promise<void> {
  const wait = await retryAfterSeconds(db, rules, now);
  if (wait > 0) throw lockedOut(wait);
}

export async function recordFailure(db: Queryable, rules: ThrottleRule[], now: Date): Promise<void> {
  for (const rule of rules) {
    await db.query('INSERT INTO auth_attempts (scope, subject, at) VALUES ($1, $2, $3)', [
      rule.scope,
      rule.subject,
      now,
    ]);
  }
}

export async function clearFailures(db: Queryable, rule: ThrottleRule): Promise<void> {
  await db.query('DELETE FROM auth_attempts WHERE scope = $1 AND subject = $2', [rule.scope, rule.subject]);
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
