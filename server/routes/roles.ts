import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { RoleAnswer, RoleList } from '../../contract/users.ts';
import { createCustomRole, customRoles } from '../auth/custom-roles.ts';
import { isRole, PERMISSIONS, ROLES } from '../auth/permissions.ts';
import { validCustomPermissions } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

const tags = ['roles'];

/** Built-in roles and the org's custom roles, made of the same named permissions (roles.manage). */
export const rolesRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/roles',
    {
      config: requires('roles.manage'),
      schema: {
        summary: 'List built-in and custom roles',
        tags,
        response: { 200: RoleList, ...errorResponses },
      },
    },
    async (request) => {
      const custom = await customRoles(db, principalOf(request).orgId);
      return {
        permissions: [...PERMISSIONS],
        roles: [
          ...Object.entries(ROLES).map(([name, permissions]) => ({
            name,
            builtIn: true,
            permissions: [...permissions],
          })),
          ...custom.map((r) => ({ id: r.id, name: r.name, builtIn: false, permissions: r.permissions })),
        ],
      };
    },
  );

  app.post(
    '/v1/roles',
    {
      config: requires('roles.manage'),
      schema: {
        summary: 'Create a custom role',
        description: 'Only permissions you hold yourself can be granted.',
        tags,
        body: Type.Object(
          {
            name: Type.String({ minLength: 2, maxLength: 40, pattern: '^[a-z][a-z0-9_]+$' }),
            permissions: Type.Array(Type.String({ maxLength: 60 }), { maxItems: 40, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: { 201: RoleAnswer, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { name } = request.body;
      if (isRole(name)) throw new ApiError(409, 'ROLE_EXISTS', `"${name}" is a built-in role.`);
      const permissions = validCustomPermissions(request.body.permissions);
      const missing = permissions.filter((perm) => !p.permissions.includes(perm));
      if (missing.length > 0)
        throw new ApiError(403, 'CANNOT_GRANT', 'You cannot grant permissions you do not hold.', { missing });
      const role = await db.transaction((tx) =>
        createCustomRole(
          tx,
          { orgId: p.orgId, name, permissions },
          { actor: p.actor, now: clock(), ip: request.ip },
        ),
      );
      return reply.code(201).send({ role: { ...role, builtIn: false } });
    },
  );
};
