import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/** Failed attempts counted over this window; a lockout lasts until the oldest counted one leaves it. */
export const THROTTLE_WINDOW_MS = 15 * 60_000;

export interface ThrottleRule {
  scope: string;
  subject: string;
  limit: number;
}

export const loginRules = (email: string, ip: string): ThrottleRule[] => [
  { scope: 'login:account', subject: email.toLowerCase(), limit: 5 },
  { scope: 'login:ip', subject: ip, limit: 30 },
];

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

export function lockedOut(seconds: number): ApiError {
  const minutes = Math.ceil(seconds / 60);
  return new ApiError(
    429,
    'TOO_MANY_ATTEMPTS',
    `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset your password.`,
    { retryAfterSeconds: seconds },
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
