import { Type } from 'typebox';
import { NoContent } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { ApiKeyList, CreatedApiKey } from '../../contract/users.ts';
import { apiKeyById, apiKeyDto, mintApiKey, orgApiKeys, revokeApiKey } from '../auth/api-keys.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { assertMayGrant } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { Uuid } from './schemas.ts';

const tags = ['api-keys'];

/**
 * The org's API keys (org.manage): list them, create one (shown once; needs a person who just
 * proved a credential, and never a role above the creator's), revoke one (stops at once in
 * every relay process: the revocation is announced and key caches are emptied).
 */
export const apiKeysRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/api-keys',
    {
      config: requires('org.manage'),
      schema: { summary: "List the org's API keys", tags, response: { 200: ApiKeyList, ...errorResponses } },
    },
    async (request) => ({ keys: (await orgApiKeys(db, principalOf(request).orgId)).map(apiKeyDto) }),
  );

  app.post(
    '/v1/api-keys',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Create an API key',
        description: 'The secret is shown once. Needs a recent sign-in; never a role above your own.',
        tags,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 80 }),
            role: Type.String({ minLength: 2, maxLength: 40 }),
            /** Bind the key to the caller: it then acts as them and stops with their account. */
            boundToMe: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedApiKey, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const now = clock();
      // A key outlives every session: minting one is as sensitive as adding a second factor.
      await requireRecentAuth(db, p, now);
      await assertMayGrant(db, p.orgId, request.body.role, p.permissions);
      const userId = request.body.boundToMe === true ? p.userId : null;
      const input = { orgId: p.orgId, role: request.body.role, name: request.body.name.trim(), userId };
      const by = { userId: p.userId, actor: p.actor, ip: request.ip, now };
      const created = await db.transaction((tx) => mintApiKey(tx, input, by));
      const row = await apiKeyById(db, created.id);
      if (row === null) throw new Error('created API key is missing');
      return reply.code(201).send({ key: created.key, apiKey: apiKeyDto(row) });
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Revoke an API key',
        description: 'It stops at once in every relay process.',
        tags,
        params: Type.Object({ id: Uuid }),
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const by = { actor: p.actor, ip: request.ip, now: clock() };
      const revoked = await db.transaction((tx) => revokeApiKey(tx, p.orgId, request.params.id, by));
      if (!revoked)
        throw new ApiError(404, 'API_KEY_NOT_FOUND', 'No active API key with this id in your organisation.');
      return reply.code(204).send();
    },
  );
};
