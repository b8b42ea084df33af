import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';

export const numbersRoutes: RouteModule = (app, { db }) => {
  app.get('/v1/numbers', { config: requires('numbers.view') }, async (request) => {
    const rows = await db.query<{ id: string; e164: string; label: string | null; number_type: string }>(
      'SELECT id, e164, label, number_type FROM sender_numbers WHERE org_id = $1 ORDER BY created_at, e164',
      [principalOf(request).orgId],
    );
    return {
      numbers: rows.map((r) => ({ id: r.id, e164: r.e164, label: r.label, numberType: r.number_type })),
    };
  });
};
