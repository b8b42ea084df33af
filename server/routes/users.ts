import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { InvitedUser, UserAnswer, UserList } from '../../contract/users.ts';
import {
  assertMayGrant,
  changeRole,
  createUser,
  deactivateUser,
  getUser,
  orgUsers,
  userDto,
} from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { deliver } from '../mail/select.ts';
import { Uuid } from './schemas.ts';

const tags = ['users'];
const RoleName = Type.String({ minLength: 2, maxLength: 40, pattern: '^[a-z][a-z0-9_]+$' });

/** Users of the org: invite, change role, deactivate (users.manage). */
export const usersRoutes: RouteModule = (app, deps) => {
  userListRoutes(app, deps);
  userChangeRoutes(app, deps);
};

/** Listing and inviting users. */
const userListRoutes: RouteModule = (app, { db, clock, config, mail }) => {
  const manage = requires('users.manage');

  app.get(
    '/v1/users',
    {
      config: manage,
      schema: { summary: "List the org's users", tags, response: { 200: UserList, ...errorResponses } },
    },
    async (request) => ({ users: (await orgUsers(db, principalOf(request).orgId)).map(userDto) }),
  );

  app.post(
    '/v1/users',
    {
      config: manage,
      schema: {
        summary: 'Invite a user',
        description: 'Mails an invitation (a link to choose a password); never a role above your own.',
        tags,
        response: { 201: InvitedUser, ...errorResponses },
        body: Type.Object(
          {
            email: Type.String({ format: 'email', maxLength: 254 }),
            role: RoleName,
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const body = request.body;
      const { user, mail: invitation } = await db.transaction(async (tx) => {
        await assertMayGrant(tx, p.orgId, body.role, p.permissions);
        return createUser(tx, {
          orgId: p.orgId,
          email: body.email,
          role: body.role,
          displayName: body.displayName ?? null,
          actor: p.actor,
          now: clock(),
          publicUrl: config.publicUrl,
          ip: request.ip,
        });
      });
      // The user exists either way; the admin learns whether the invitation left, and can resend
      // it as a password reset.
      const mailed = await deliver(mail, invitation, request.log, { userId: user.id, kind: 'invitation' });
      return reply.code(201).send({ user: userDto(user), invitationMailed: mailed });
    },
  );
};

/** Changing a user's role and deactivating them. */
const userChangeRoutes: RouteModule = (app, { db, clock }) => {
  const manage = requires('users.manage');

  app.put(
    '/v1/users/:id/role',
    {
      config: manage,
      schema: {
        summary: "Change a user's role",
        description: 'Neither the old nor the new role may be above your own.',
        tags,
        params: Type.Object({ id: Uuid }),
        body: Type.Object({ role: RoleName }, { additionalProperties: false }),
        response: { 200: UserAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const now = clock();
      const user = await db.transaction(async (tx) => {
        const current = await getUser(tx, request.params.id);
        if (current === null || current.org_id !== p.orgId)
          throw new ApiError(404, 'USER_NOT_FOUND', 'No such user in your organisation.');
        await assertMayGrant(tx, p.orgId, current.role, p.permissions);
        await assertMayGrant(tx, p.orgId, request.body.role, p.permissions);
        return changeRole(tx, current, request.body.role, { actor: p.actor, now, ip: request.ip });
      });
      return { user: userDto(user) };
    },
  );

  app.post(
    '/v1/users/:id/deactivate',
    {
      config: manage,
      schema: {
        summary: 'Deactivate a user',
        description: 'Their sessions and bound API keys stop at once.',
        tags,
        params: Type.Object({ id: Uuid }),
        response: { 200: UserAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.userId === request.params.id)
        throw new ApiError(
          409,
          'CANNOT_DEACTIVATE_SELF',
          'Ask another administrator to deactivate your account.',
        );
      const user = await db.transaction(async (tx) => {
        const target = await getUser(tx, request.params.id);
        if (target === null || target.org_id !== p.orgId)
          throw new ApiError(404, 'USER_NOT_FOUND', 'No such user in your organisation.');
        await assertMayGrant(tx, p.orgId, target.role, p.permissions);
        return deactivateUser(tx, {
          orgId: p.orgId,
          userId: target.id,
          actor: p.actor,
          now: clock(),
          ip: request.ip,
        });
      });
      return { user: userDto(user) };
    },
  );
};
