import { errorResponses } from '../../contract/errors.ts';
import { NumberListSchema } from '../../contract/numbers.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { listSenderNumbers } from '../stores/sender-number-queries.ts';

export const numbersRoutes: RouteModule = (app, { db }) => {
  app.get(
    '/v1/numbers',
    {
      config: requires('numbers.view'),
      schema: {
        summary: "List the organisation's sender numbers",
        tags: ['numbers'],
        response: { 200: NumberListSchema, ...errorResponses },
      },
    },
    async (request) => {
      return { numbers: await listSenderNumbers(db, principalOf(request).orgId) };
    },
  );
};
