import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { listSessions, revokeSession } from '../auth/sessions.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { Uuid } from './schemas.ts';

/** One's own signed-in sessions: list them, end one (a lost laptop). */
export const sessionsRoutes: RouteModule = (app, { db, clock }) => {
  app.get('/v1/sessions', { config: requires('account.self') }, async (request) => {
    const p = principalOf(request);
    if (p.userId === null) return { sessions: [] };
    const sessions = await listSessions(db, p.userId, clock());
    return { sessions: sessions.map((s) => ({ ...s, current: s.id === p.sessionId })) };
  });

  app.delete(
    '/v1/sessions/:id',
    { config: requires('account.self'), schema: { params: Type.Object({ id: Uuid }) } },
    async (request, reply) => {
      const p = principalOf(request);
      const now = clock();
      const rows = await db.query<{ id: string }>(
        'SELECT id FROM auth_sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL',
        [request.params.id, p.userId],
      );
      if (p.userId === null || rows.length === 0)
        throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session of yours.');
      await revokeSession(db, request.params.id, 'revoked_by_user', now);
      await recordAuthEvent(db, {
        orgId: p.orgId,
        userId: p.userId,
        actor: p.actor,
        kind: 'session_revoked',
        detail: { sessionId: request.params.id },
        at: now,
      });
      return reply.code(204).send();
    },
  );
};
