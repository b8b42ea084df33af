import type { FastifyReply, FastifyRequest } from 'fastify';
import { type KeyPrincipal, resolveApiKey } from '../auth/api-keys.ts';
import { KeyCache } from '../auth/key-cache.ts';
import { isRole, type Permission, permissionsOf } from '../auth/permissions.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/**
 * Every route declares who may call it in `config.access`; a route without it stops buildApp
 * (its onRoute hook) and fails the authorization test.
 */
export type Access =
  | { kind: 'permission'; permission: Permission }
  | { kind: 'public'; reason: string }
  | { kind: 'webhook'; provider: string };

export interface Principal extends KeyPrincipal {
  permissions: readonly Permission[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const requires = (permission: Permission): { access: Access } => ({
  access: { kind: 'permission', permission },
});
export const publicRoute = (reason: string): { access: Access } => ({ access: { kind: 'public', reason } });

async function authenticate(db: Database, cache: KeyCache, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new ApiError(401, 'UNAUTHENTICATED', 'Send an API key as "Authorization: Bearer <key>".');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null)
    throw new ApiError(401, 'UNAUTHENTICATED', 'The Authorization header must be "Bearer <key>".');
  const presented = match[1] as string;
  let principal = cache.get(presented);
  if (principal === null) {
    principal = await resolveApiKey(db, presented);
    if (principal !== null) cache.set(presented, principal);
  }
  if (principal === null)
    throw new ApiError(401, 'UNAUTHENTICATED', 'The API key is unknown or has been revoked.');
  if (!isRole(principal.role))
    throw new ApiError(403, 'FORBIDDEN', `The key's role "${principal.role}" is not known.`);
  return { ...principal, permissions: permissionsOf(principal.role) };
}

/** The onRequest check for one route; runs before the body is parsed. */
export function accessHook(db: Database, cache = new KeyCache()) {
  return async function checkAccess(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    request.principal = null;
    const access = request.routeOptions.config.access;
    if (access === undefined) {
      // Unknown URLs reach the not-found handler without a route config: let it answer 404.
      if (request.routeOptions.url === undefined) return;
      throw new ApiError(500, 'ROUTE_WITHOUT_ACCESS', 'This route declares no access rule.');
    }
    if (access.kind !== 'permission') return;
    const principal = await authenticate(db, cache, request);
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
