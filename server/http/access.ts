import type { FastifyReply, FastifyRequest } from 'fastify';
import { resolveApiKey } from '../auth/api-keys.ts';
import { KeyCache } from '../auth/key-cache.ts';
import { type Permission, resolvePermissions } from '../auth/permissions.ts';
import { isAccessToken, resolveAccessToken } from '../auth/sessions.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { maskPhone, maskPhonesIn } from '../phone.ts';
import type { PolicyFacts } from '../policy/texting-policy.ts';

/**
 * Every route declares who may call it in `config.access`; a route without it stops buildApp
 * (its onRoute hook) and fails the authorization test.
 */
export type Access =
  | { kind: 'permission'; permission: Permission }
  | { kind: 'public'; reason: string }
  | { kind: 'webhook'; provider: string };

/** Who is calling: an API key (possibly bound to a user) or a signed-in user's session. */
export interface Principal {
  /** The API key, or null for a session. */
  keyId: string | null;
  keyName: string | null;
  orgId: string;
  orgName: string;
  role: string;
  permissions: readonly Permission[];
  /** The user behind the request: a session's user or a key's bound user. */
  userId: string | null;
  sessionId: string | null;
  /** When the presented credential stops working by itself: an access token's expiry; null for a key. */
  expiresAt: Date | null;
  /** How audit trails name the principal: "api-key:<id>" or "user:<id>". */
  actor: string;
  /** How people see the principal named (a sender): the key's name or the user's email. */
  displayName: string;
  /** Since when an anomaly alert has paused this person's sending (server/anomalies); null or absent: they may send. */
  sendingPausedAt?: Date | null;
  /**
   * Where the org requires its texting policy acknowledged: its current version and this person's
   * last acknowledgement (server/policy). Null or absent: no acknowledgement is asked of them.
   */
  policy?: PolicyFacts | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** A session that must first enrol a second factor may call this route (and nothing else). */
    duringEnrolment?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const requires = (permission: Permission): { access: Access } => ({
  access: { kind: 'permission', permission },
});
export const publicRoute = (reason: string): { access: Access } => ({ access: { kind: 'public', reason } });

const unauthenticated = () =>
  new ApiError(401, 'UNAUTHENTICATED', 'The API key or access token is unknown, expired or revoked.');

async function authenticate(
  db: Database,
  cache: KeyCache,
  clock: Clock,
  request: FastifyRequest,
): Promise<Principal> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new ApiError(401, 'UNAUTHENTICATED', 'Send an API key as "Authorization: Bearer <key>".');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null)
    throw new ApiError(401, 'UNAUTHENTICATED', 'The Authorization header must be "Bearer <key>".');
  const presented = match[1] as string;
  if (isAccessToken(presented)) {
    const session = await resolveAccessToken(db, presented, clock());
    if (session === null) throw unauthenticated();
    const permissions = resolvePermissions(session.role, session.customPermissions);
    if (permissions === null)
      throw new ApiError(403, 'FORBIDDEN', `Your role "${session.role}" is not known.`);
    if (session.stage === 'enrol' && request.routeOptions.config.duringEnrolment !== true) {
      throw new ApiError(
        403,
        'SECOND_FACTOR_ENROLMENT_REQUIRED',
        'Your organisation requires a second factor: enrol one (POST /v1/auth/totp/enrol) before anything else.',
      );
    }
    return {
      keyId: null,
      keyName: null,
      orgId: session.orgId,
      orgName: session.orgName,
      role: session.role,
      permissions,
      userId: session.userId,
      sessionId: session.sessionId,
      expiresAt: session.accessExpiresAt,
      actor: `user:${session.userId}`,
      displayName: session.email,
      sendingPausedAt: session.sendingPausedAt,
      policy: session.policy,
    };
  }
  let key = cache.get(presented);
  if (key === null) {
    key = await resolveApiKey(db, presented);
    // Keys bound to a user are re-read on every request (their user's status is in the query),
    // so a deactivation stops them at once in every process; org keys may be cached briefly.
    if (key !== null && key.userId === null) cache.set(presented, key);
  }
  if (key === null) throw new ApiError(401, 'UNAUTHENTICATED', 'The API key is unknown or has been revoked.');
  const permissions = resolvePermissions(key.role, key.customPermissions);
  if (permissions === null)
    throw new ApiError(403, 'FORBIDDEN', `The key's role "${key.role}" is not known.`);
  return {
    keyId: key.keyId,
    keyName: key.keyName,
    orgId: key.orgId,
    orgName: key.orgName,
    role: key.role,
    permissions,
    userId: key.userId,
    sessionId: null,
    expiresAt: null,
    actor: `api-key:${key.keyId}`,
    displayName: key.keyName ?? `key ${key.keyId.slice(0, 8)}`,
    sendingPausedAt: key.sendingPausedAt,
    policy: key.policy,
  };
}

/** The onRequest check for one route; runs before the body is parsed. */
export function accessHook(db: Database, cache = new KeyCache(), clock: Clock = systemClock) {
  return async function checkAccess(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    request.principal = null;
    const access = request.routeOptions.config.access;
    if (access === undefined) {
      // Unknown URLs reach the not-found handler without a route config: let it answer 404.
      if (request.routeOptions.url === undefined) return;
      throw new ApiError(500, 'ROUTE_WITHOUT_ACCESS', 'This route declares no access rule.');
    }
    if (access.kind !== 'permission') return;
    const principal = await authenticate(db, cache, clock, request);
    if (!principal.permissions.includes(access.permission)) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        `Your role (${principal.role}) lacks the "${access.permission}" permission.`,
        {
          permission: access.permission,
        },
      );
    }
    request.principal = principal;
  };
}

/** The principal of an authenticated route; a programming error if called elsewhere. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new Error('route has no authenticated principal');
  return request.principal;
}

/** Whether the principal sees every conversation of its org, or only those it sent in. */
export function seesAllConversations(principal: Principal): boolean {
  return principal.permissions.includes('conversations.view_all');
}

/**
 * The user whose conversations the principal is confined to, or null when it sees them all:
 * with conversations.view_all, or as an API key bound to no user (such a key acts for the org).
 */
export function confinedToUser(principal: Principal): string | null {
  if (seesAllConversations(principal)) return null;
  return principal.userId;
}

/** Whether the principal may see phone numbers unmasked. */
export function seesPii(principal: Principal): boolean {
  return principal.permissions.includes('pii.view');
}

/** A phone number as the principal may see it: masked without pii.view. */
export function phoneFor(principal: Principal, e164: string): string;
export function phoneFor(principal: Principal, e164: string | null): string | null;
export function phoneFor(principal: Principal, e164: string | null): string | null {
  return e164 === null || seesPii(principal) ? e164 : maskPhone(e164);
}

/** Free text (consent evidence, a review's reason) as the principal may see it: its numbers masked without pii.view. */
export function textFor(principal: Principal, text: string): string {
  return seesPii(principal) ? text : maskPhonesIn(text);
}

/** A message as the principal may see it (its numbers masked without pii.view). */
export function messageFor<T extends { from: string; to: string }>(principal: Principal, message: T): T {
  if (seesPii(principal)) return message;
  return { ...message, from: maskPhone(message.from), to: maskPhone(message.to) };
}

/** Whether the conversation is in the principal's org and, unless it sees all, one it sent in. */
export async function visibleConversation(
  db: Database,
  principal: Principal,
  conversationId: string,
): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM conversations c
      WHERE c.id = $1 AND c.org_id = $2
        AND ($3::uuid IS NULL OR EXISTS (
              SELECT 1 FROM conversation_participants p WHERE p.user_id = $3 AND p.conversation_id = c.id))`,
    [conversationId, principal.orgId, confinedToUser(principal)],
  );
  return rows.length > 0;
}

/** Of the given conversations, those the principal may see. */
export async function visibleConversations(
  db: Database,
  principal: Principal,
  conversationIds: readonly string[],
): Promise<Set<string>> {
  if (conversationIds.length === 0) return new Set();
  const rows = await db.query<{ id: string }>(
    `SELECT c.id FROM conversations c
      WHERE c.id = ANY($1::uuid[]) AND c.org_id = $2
        AND ($3::uuid IS NULL OR EXISTS (
              SELECT 1 FROM conversation_participants p WHERE p.user_id = $3 AND p.conversation_id = c.id))`,
    [conversationIds, principal.orgId, confinedToUser(principal)],
  );
  return new Set(rows.map((r) => r.id));
}
