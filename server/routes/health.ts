import { errorResponses } from '../../contract/errors.ts';
import { HealthStatus } from '../../contract/health.ts';
import { pingDatabase } from '../db/ping.ts';
import { publicRoute } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

export const healthRoutes: RouteModule = (app, { db }) => {
  app.get(
    '/healthz',
    {
      config: publicRoute('load balancers and start-up scripts probe it'),
      schema: {
        summary: 'Health check',
        description: 'Answers 200 when the relay and its database answer, 503 when the database does not.',
        tags: ['health'],
        response: { 200: HealthStatus, ...errorResponses },
      },
    },
    async (_request, reply) => {
      try {
        await pingDatabase(db);
      } catch {
        return reply
          .code(503)
          .send({ error: { code: 'DATABASE_UNAVAILABLE', message: 'The database does not answer.' } });
      }
      return { status: 'ok' as const };
    },
  );
};
