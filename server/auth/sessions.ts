import { batchedRead } from '../db/batched-reads.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId, randomToken, sha256 } from '../ids.ts';
import type { PolicyFacts } from '../policy/texting-policy.ts';
import { recordAuthEvent } from './auth-events.ts';
import { type OrgAuthSettings, parseAuthSettings } from './auth-settings.ts';

/** Access tokens are opaque, hashed at rest and short-lived; refresh tokens rotate on every use. */
export const ACCESS_TTL_MS = 10 * 60_000;
const ACCESS_PATTERN = /^cts_[A-Za-z0-9_-]{43}$/;
const REFRESH_PATTERN = /^ctr_[A-Za-z0-9_-]{43}$/;
/** last_seen_at is written at most this often, so reads stay cheap; idle timeouts are minutes. */
const TOUCH_EVERY_MS = 10_000;

export type SessionStage = 'full' | 'enrol';

export interface IssuedTokens {
  sessionId: string;
  accessToken: string;
  accessExpiresAt: string;
  refreshToken: string;
  /** 'enrol': the session may only enrol a second factor (org policy). */
  stage: SessionStage;
  /** The org's policy: the client may not keep this session across browser restarts. */
  requireSignInEachBrowserSession: boolean;
}

export const isAccessToken = (value: string): boolean => ACCESS_PATTERN.test(value);

async function issue(
  db: Queryable,
  sessionId: string,
  stage: SessionStage,
  now: Date,
  policy: OrgAuthSettings,
): Promise<IssuedTokens> {
  const accessToken = `cts_${randomToken(32)}`;
  const refreshToken = `ctr_${randomToken(32)}`;
  const accessExpiresAt = new Date(now.getTime() + ACCESS_TTL_MS);
  await db.query('UPDATE auth_sessions SET access_hash = $2, access_expires_at = $3 WHERE id = $1', [
    sessionId,
    sha256(accessToken),
    accessExpiresAt,
  ]);
  await db.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)', [
    sha256(refreshToken),
    sessionId,
    now,
  ]);
  return {
    sessionId,
    accessToken,
    accessExpiresAt: accessExpiresAt.toISOString(),
    refreshToken,
    stage,
    requireSignInEachBrowserSession: policy.requireSignInEachBrowserSession,
  };
}

export async function createSession(
  db: Queryable,
  input: {
    orgId: string;
    userId: string;
    stage: SessionStage;
    now: Date;
    userAgent?: string | null;
    ip?: string | null;
  },
): Promise<IssuedTokens> {
  const id = newId();
  await db.query(
    `INSERT INTO auth_sessions (id, org_id, user_id, stage, access_hash, access_expires_at, created_at, last_seen_at, authenticated_at, user_agent, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $6, $7, $8)`,
    [
      id,
      input.orgId,
      input.userId,
      input.stage,
      sha256(`placeholder:${id}`),
      input.now,
      input.userAgent?.slice(0, 300) ?? null,
      input.ip ?? null,
    ],
  );
  const [org] = await db.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
    input.orgId,
  ]);
  return issue(db, id, input.stage, input.now, parseAuthSettings(org?.settings));
}

interface SessionRow {
  id: string;
  org_id: string;
  org_name: string;
  user_id: string;
  email: string;
  stage: SessionStage;
  role: string;
  custom: string[] | null;
  access_expires_at: Date;
  created_at: Date;
  last_seen_at: Date;
  settings: unknown;
  sending_paused_at: Date | null;
  policy_version: number | null;
  policy_acknowledged_version: number | null;
  policy_acknowledged_at: Date | null;
}

const SESSION_SELECT = `SELECT s.id, s.org_id, o.name AS org_name, s.user_id, u.email, s.stage, u.role, r.permissions AS custom,
        s.access_expires_at, s.created_at, s.last_seen_at, o.settings, u.sending_paused_at,
        o.policy_version, u.policy_acknowledged_version, u.policy_acknowledged_at
   FROM auth_sessions s
   JOIN users u ON u.id = s.user_id
   JOIN orgs o ON o.id = s.org_id
   LEFT JOIN roles r ON r.org_id = s.org_id AND r.name = u.role`;

const LIVE = `s.revoked_at IS NULL AND u.status = 'active'`;

/**
 * The live sessions of several access-token hashes in one statement (#20: every request of a
 * signed-in person reads its session; concurrent requests share the read, which still starts
 * after each of them arrived, so a revocation is never read late). One hash reads with a scalar
 * parameter, so its plan is prepared once.
 */
async function readLiveSessions(
  db: Queryable,
  hashes: readonly Buffer[],
): Promise<(SessionRow | undefined)[]> {
  if (hashes.length === 1) {
    const rows = await db.query<SessionRow>(`${SESSION_SELECT} WHERE s.access_hash = $1 AND ${LIVE}`, [
      hashes[0],
    ]);
    return [rows[0]];
  }
  const rows = await db.query<SessionRow & { access_hex: string }>(
    `${SESSION_SELECT.replace('SELECT s.id,', "SELECT encode(s.access_hash, 'hex') AS access_hex, s.id,")}
      WHERE s.access_hash IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h) AND ${LIVE}`,
    // As hex: PGlite does not send a list of Buffers as bytea[].
    [hashes.map((hash) => hash.toString('hex'))],
  );
  const byHash = new Map(rows.map(({ access_hex, ...row }) => [access_hex, row]));
  return hashes.map((hash) => byHash.get(hash.toString('hex')));
}

const liveSessionOf = batchedRead(readLiveSessions);

/** When a session ends by its org's policy: after idle minutes without a request, or absolutely. */
export function sessionDeadlines(row: { created_at: Date; last_seen_at: Date; settings: unknown }): {
  absolute: Date;
  idle: Date;
} {
  const policy = parseAuthSettings(row.settings);
  return {
    absolute: new Date(new Date(row.created_at).getTime() + policy.absoluteTimeoutHours * 3_600_000),
    idle: new Date(new Date(row.last_seen_at).getTime() + policy.idleTimeoutMinutes * 60_000),
  };
}

/** Why a live session ends now, or null while it may go on. */
function timedOut(row: SessionRow, now: Date): 'idle_timeout' | 'absolute_timeout' | null {
  const deadlines = sessionDeadlines(row);
  if (now.getTime() >= deadlines.absolute.getTime()) return 'absolute_timeout';
  if (now.getTime() >= deadlines.idle.getTime()) return 'idle_timeout';
  return null;
}

export interface SessionPrincipal {
  sessionId: string;
  userId: string;
  email: string;
  orgId: string;
  orgName: string;
  role: string;
  customPermissions: string[] | null;
  stage: SessionStage;
  /** When the presented access token stops working (judged by the relay's clock). */
  accessExpiresAt: Date;
  /** Since when an anomaly alert has paused this person's sending; null when they may send. */
  sendingPausedAt: Date | null;
  /** The texting policy facts where the org requires it acknowledged; null where it does not. */
  policy: PolicyFacts | null;
}

/**
 * Resolves an access token. The user's status is read in the same query on every request (no
 * cache), so a deactivation stops the session on the very next request in every process.
 */
export async function resolveAccessToken(
  db: Queryable,
  presented: string,
  now: Date,
): Promise<SessionPrincipal | null> {
  if (!isAccessToken(presented)) return null;
  const row = await liveSessionOf(db, sha256(presented));
  if (row === undefined) return null;
  if (new Date(row.access_expires_at).getTime() <= now.getTime()) return null;
  const reason = timedOut(row, now);
  if (reason !== null) {
    await revokeSession(db, row.id, reason, now);
    return null;
  }
  if (now.getTime() - new Date(row.last_seen_at).getTime() >= TOUCH_EVERY_MS) {
    await db.query('UPDATE auth_sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2', [
      row.id,
      now,
    ]);
  }
  return {
    sessionId: row.id,
    userId: row.user_id,
    email: row.email,
    orgId: row.org_id,
    orgName: row.org_name,
    role: row.role,
    customPermissions: row.custom,
    stage: row.stage,
    accessExpiresAt: new Date(row.access_expires_at),
    sendingPausedAt: row.sending_paused_at === null ? null : new Date(row.sending_paused_at),
    policy: policyFactsOf(row),
  };
}

/** The policy facts of a person's row (a session's, or a bound key's), where the org requires it acknowledged. */
export function policyFactsOf(row: {
  settings: unknown;
  policy_version: number | null;
  policy_acknowledged_version: number | null;
  policy_acknowledged_at: Date | null;
}): PolicyFacts | null {
  const settings = (row.settings ?? {}) as { requirePolicyAcknowledgement?: unknown };
  if (settings.requirePolicyAcknowledgement !== true) return null;
  return {
    version: row.policy_version ?? 1,
    acknowledgedVersion: row.policy_acknowledged_version,
    acknowledgedAt: row.policy_acknowledged_at === null ? null : new Date(row.policy_acknowledged_at),
  };
}

const refreshRefused = () =>
  new ApiError(
    401,
    'INVALID_REFRESH_TOKEN',
    'The refresh token is unknown, used, revoked or expired; sign in again.',
  );

/**
 * Trades a refresh token for a new access and refresh token. A refresh token presented a second
 * time means it was stolen or replayed: the whole session (its token family) is revoked.
 */
export async function refreshSession(db: Queryable, presented: string, now: Date): Promise<IssuedTokens> {
  if (!REFRESH_PATTERN.test(presented)) throw refreshRefused();
  const tokens = await db.query<{ session_id: string; used_at: Date | null }>(
    'SELECT session_id, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
    [sha256(presented)],
  );
  const token = tokens[0];
  if (token === undefined) throw refreshRefused();
  const rows = await db.query<SessionRow & { revoked_at: Date | null; status: string }>(
    `${SESSION_SELECT.replace('SELECT ', 'SELECT s.revoked_at, u.status, ')} WHERE s.id = $1`,
    [token.session_id],
  );
  const row = rows[0];
  if (row === undefined || row.revoked_at !== null || row.status !== 'active') throw refreshRefused();
  if (token.used_at !== null) {
    await revokeSession(db, row.id, 'refresh_reuse', now);
    await recordAuthEvent(db, {
      orgId: row.org_id,
      userId: row.user_id,
      actor: `user:${row.user_id}`,
      kind: 'refresh_reuse',
      detail: { sessionId: row.id },
      at: now,
    });
    throw refreshRefused();
  }
  const reason = timedOut(row, now);
  if (reason !== null) {
    await revokeSession(db, row.id, reason, now);
    throw refreshRefused();
  }
  await db.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [sha256(presented), now]);
  await db.query('UPDATE auth_sessions SET last_seen_at = $2 WHERE id = $1', [row.id, now]);
  // The policy as it is now: an org that starts requiring sign-in each browser session tells every
  // client on its next refresh.
  return issue(db, row.id, row.stage, now, parseAuthSettings(row.settings));
}

/** Ending sessions: one (sign-out, a user ending it, refresh reuse) or all of a user's. */
const REVOKE = {
  session:
    'UPDATE auth_sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL',
  user: 'UPDATE auth_sessions SET revoked_at = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL',
} as const;

/** Ends one session; later requests with its tokens fail. */
export async function revokeSession(
  db: Queryable,
  sessionId: string,
  reason: string,
  now: Date,
): Promise<void> {
  await db.query(REVOKE.session, [sessionId, now, reason]);
}

/** Ends every session of a user (password changed, deactivated). */
export async function revokeUserSessions(
  db: Queryable,
  userId: string,
  reason: string,
  now: Date,
): Promise<void> {
  await db.query(REVOKE.user, [userId, now, reason]);
}

/** True when the session is the user's own and still open. */
export async function isOpenSessionOf(db: Queryable, sessionId: string, userId: string): Promise<boolean> {
  const rows = await db.query(
    'SELECT id FROM auth_sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL',
    [sessionId, userId],
  );
  return rows.length > 0;
}

/** The session that had to enrol a second factor may now do everything its role allows. */
export async function completeEnrolment(tx: Queryable, sessionId: string): Promise<void> {
  await tx.query(`UPDATE auth_sessions SET stage = 'full' WHERE id = $1`, [sessionId]);
}

export async function listSessions(db: Queryable, userId: string, now: Date) {
  const rows = await db.query<SessionRow & { user_agent: string | null; ip: string | null }>(
    `${SESSION_SELECT.replace('SELECT ', 'SELECT s.user_agent, s.ip, ')}
      WHERE s.user_id = $1 AND s.revoked_at IS NULL ORDER BY s.created_at DESC`,
    [userId],
  );
  return rows
    .filter((r) => timedOut(r, now) === null)
    .map((r) => ({
      id: r.id,
      createdAt: new Date(r.created_at).toISOString(),
      lastSeenAt: new Date(r.last_seen_at).toISOString(),
      userAgent: r.user_agent,
      ip: r.ip,
    }));
}
