import { Type } from 'typebox';
import { NoContent, SessionList } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { isOpenSessionOf, listSessions, revokeSession } from '../auth/sessions.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { Uuid } from './schemas.ts';

const tags = ['sessions'];

/** One's own signed-in sessions: list them, end one (a lost laptop). */
export const sessionsRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/sessions',
    {
      config: requires('account.self'),
      schema: { summary: 'List your open sessions', tags, response: { 200: SessionList, ...errorResponses } },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.userId === null) return { sessions: [] };
      const sessions = await listSessions(db, p.userId, clock());
      return { sessions: sessions.map((s) => ({ ...s, current: s.id === p.sessionId })) };
    },
  );

  app.delete(
    '/v1/sessions/:id',
    {
      config: requires('account.self'),
      schema: {
        summary: 'End one of your sessions',
        description: 'Its tokens stop working at once (a lost laptop).',
        tags,
        params: Type.Object({ id: Uuid }),
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const now = clock();
      const sessionId = request.params.id;
      if (p.userId === null || !(await isOpenSessionOf(db, sessionId, p.userId)))
        throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session of yours.');
      await revokeSession(db, sessionId, 'revoked_by_user', now);
      const event = { orgId: p.orgId, userId: p.userId, actor: p.actor, detail: { sessionId } };
      await recordAuthEvent(db, { ...event, kind: 'session_revoked', at: now });
      return reply.code(204).send();
    },
  );
};
