import { Type } from 'typebox';
import { createApiKey } from '../auth/api-keys.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { assertMayGrant } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { Uuid } from './schemas.ts';

interface KeyRow {
  id: string;
  name: string | null;
  prefix: string;
  role: string;
  user_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const keyBody = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  // Enough to recognise a key in a config file; the secret itself is never stored.
  prefix: `ctk_${k.prefix}_…`,
  role: k.role,
  userId: k.user_id,
  createdAt: new Date(k.created_at).toISOString(),
  lastUsedAt: k.last_used_at === null ? null : new Date(k.last_used_at).toISOString(),
  revokedAt: k.revoked_at === null ? null : new Date(k.revoked_at).toISOString(),
});

/**
 * The org's API keys (org.manage): list them, create one (shown once; needs a person who just
 * proved a credential, and never a role above the creator's), revoke one (stops at once in
 * every relay process: the revocation is announced and key caches are emptied).
 */
export const apiKeysRoutes: RouteModule = (app, { db, clock }) => {
  app.get('/v1/api-keys', { config: requires('org.manage') }, async (request) => {
    const { orgId } = principalOf(request);
    const rows = await db.query<KeyRow>(
      `SELECT id, name, prefix, role, user_id, created_at, last_used_at, revoked_at
         FROM api_keys WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC`,
      [orgId],
    );
    return { keys: rows.map(keyBody) };
  });

  app.post(
    '/v1/api-keys',
    {
      config: requires('org.manage'),
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 80 }),
            role: Type.String({ minLength: 2, maxLength: 40 }),
            /** Bind the key to the caller: it then acts as them and stops with their account. */
            boundToMe: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const now = clock();
      // A key outlives every session: minting one is as sensitive as adding a second factor.
      await requireRecentAuth(db, p, now);
      await assertMayGrant(db, p.orgId, request.body.role, p.permissions);
      const userId = request.body.boundToMe === true ? p.userId : null;
      const created = await db.transaction(async (tx) => {
        const key = await createApiKey(tx, {
          orgId: p.orgId,
          role: request.body.role,
          name: request.body.name.trim(),
          userId,
        });
        await tx.query('UPDATE api_keys SET created_by_user_id = $2 WHERE id = $1', [key.id, p.userId]);
        await recordAuthEvent(tx, {
          orgId: p.orgId,
          userId,
          actor: p.actor,
          kind: 'api_key_created',
          detail: { keyId: key.id, name: request.body.name.trim(), role: request.body.role },
          ip: request.ip,
          at: now,
        });
        return key;
      });
      const [row] = await db.query<KeyRow>(
        'SELECT id, name, prefix, role, user_id, created_at, last_used_at, revoked_at FROM api_keys WHERE id = $1',
        [created.id],
      );
      if (row === undefined) throw new Error('created API key is missing');
      return reply.code(201).send({ key: created.key, apiKey: keyBody(row) });
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    { config: requires('org.manage'), schema: { params: Type.Object({ id: Uuid }) } },
    async (request, reply) => {
      const p = principalOf(request);
      const now = clock();
      const revoked = await db.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          'UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL RETURNING id',
          [request.params.id, p.orgId, now],
        );
        if (rows.length === 0) return false;
        await recordAuthEvent(tx, {
          orgId: p.orgId,
          userId: null,
          actor: p.actor,
          kind: 'api_key_revoked',
          detail: { keyId: request.params.id },
          ip: request.ip,
          at: now,
        });
        return true;
      });
      if (!revoked)
        throw new ApiError(404, 'API_KEY_NOT_FOUND', 'No active API key with this id in your organisation.');
      return reply.code(204).send();
    },
  );
};
