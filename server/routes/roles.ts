import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { isRole, PERMISSIONS, ROLES } from '../auth/permissions.ts';
import { validCustomPermissions } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { newId } from '../ids.ts';

/** Built-in roles and the org's custom roles, made of the same named permissions (roles.manage). */
export const rolesRoutes: RouteModule = (app, { db, clock }) => {
  app.get('/v1/roles', { config: requires('roles.manage') }, async (request) => {
    const { orgId } = principalOf(request);
    const custom = await db.query<{ id: string; name: string; permissions: string[] }>(
      'SELECT id, name, permissions FROM roles WHERE org_id = $1 ORDER BY name',
      [orgId],
    );
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
  });

  app.post(
    '/v1/roles',
    {
      config: requires('roles.manage'),
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 2, maxLength: 40, pattern: '^[a-z][a-z0-9_]+$' }),
            permissions: Type.Array(Type.String({ maxLength: 60 }), { maxItems: 40, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
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
      const id = newId();
      await db.transaction(async (tx) => {
        const taken = await tx.query('SELECT 1 FROM roles WHERE org_id = $1 AND name = $2', [p.orgId, name]);
        if (taken.length > 0) throw new ApiError(409, 'ROLE_EXISTS', `A role "${name}" already exists.`);
        await tx.query('INSERT INTO roles (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)', [
          id,
          p.orgId,
          name,
          permissions,
        ]);
        await recordAuthEvent(tx, {
          orgId: p.orgId,
          userId: null,
          actor: p.actor,
          kind: 'role_created',
          detail: { name, permissions },
          at: clock(),
        });
      });
      return reply.code(201).send({ role: { id, name, builtIn: false, permissions } });
    },
  );
};
