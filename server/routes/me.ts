import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';

export const meRoutes: RouteModule = (app) => {
  app.get('/v1/me', { config: requires('numbers.view') }, async (request) => {
    const p = principalOf(request);
    return {
      orgId: p.orgId,
      orgName: p.orgName,
      role: p.role,
      permissions: [...p.permissions],
      keyId: p.keyId,
    };
  });
};
