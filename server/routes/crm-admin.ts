import { Type } from 'typebox';
import { CrmStatusList, DeadLetterList, ReplayedDeadLetter } from '../../contract/crm.ts';
import { errorResponses } from '../../contract/errors.ts';
import { crmConnectionStatuses } from '../crm-sync/connection-status.ts';
import { listDeadLetters, replayDeadLetter } from '../crm-sync/dead-letters.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { Uuid } from './schemas.ts';

/** CRM writes that failed for good (dead letters): an admin lists them and sends them again. */
export const crmAdminRoutes: RouteModule = (app, deps) => {
  crmStatusRoute(app, deps);
  const { db } = deps;
  app.get(
    '/v1/admin/crm/dead-letters',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'CRM writes that failed for good',
        description:
          'History and opt-in status writes the CRM refused for good (dead letters), newest first.',
        tags: ['crm'],
        response: { 200: DeadLetterList, ...errorResponses },
        querystring: Type.Object(
          {
            state: Type.Optional(
              Type.Union([Type.Literal('open'), Type.Literal('replayed'), Type.Literal('all')]),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      return {
        deadLetters: await listDeadLetters(db, orgId, {
          state: request.query.state ?? 'open',
          limit: request.query.limit ?? 100,
        }),
      };
    },
  );

  app.post(
    '/v1/admin/crm/dead-letters/:id/replay',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Replay a dead letter',
        description: 'Queues the failed CRM write again; the sync worker retries it.',
        tags: ['crm'],
        params: Type.Object({ id: Uuid }),
        response: { 200: ReplayedDeadLetter, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const letter = await replayDeadLetter(db, {
        orgId: principal.orgId,
        id: request.params.id,
        actor: principal.actor,
      });
      if (letter === null)
        throw new ApiError(404, 'DEAD_LETTER_NOT_FOUND', 'No such dead letter in your organisation.');
      return { deadLetter: letter };
    },
  );
};

/** Each of the org's CRM connections: health (asked of the CRM now), sync queue, dead letters. */
const crmStatusRoute: RouteModule = (app, { db, crm }) => {
  app.get(
    '/v1/admin/crm/status',
    {
      config: requires('org.manage'),
      schema: {
        summary: "The org's CRM connections and their sync health",
        description:
          "As `npm run cli -- crm status` says it: the CRM's answer to a health check, waiting sync jobs, dead letters, a rate-limit pause, the backfill's progress.",
        tags: ['crm'],
        response: { 200: CrmStatusList, ...errorResponses },
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      // Read now: an admin who just connected a CRM must see it answer, not the cached list.
      const plugins = await crm.forOrg(orgId, { fresh: true });
      const connections = await crmConnectionStatuses(db, orgId, async (_db, connection) => {
        const plugin = plugins.get(connection.crm);
        if (plugin === null) throw new Error(`This relay has no ${connection.crm} plugin configured.`);
        return plugin;
      });
      return { connections };
    },
  );
};
