import { publicRoute } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';

export const healthRoutes: RouteModule = (app, { db }) => {
  app.get(
    '/healthz',
    { config: publicRoute('load balancers and start-up scripts probe it') },
    async (_request, reply) => {
      try {
        await db.query('SELECT 1');
      } catch {
        return reply
          .code(503)
          .send({ error: { code: 'DATABASE_UNAVAILABLE', message: 'The database does not answer.' } });
      }
      return { status: 'ok' };
    },
  );
};
