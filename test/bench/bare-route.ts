import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Database } from '../../server/db/database.ts';
import { BASELINE_INSERT } from './baseline.ts';

export const BARE_ROUTE_PATH = '/bench/bare';

/**
 * The second yardstick of the send bench (#20 item 3): the least an HTTP endpoint that stores a
 * text can do. A Fastify app in the relay's process, on the relay's database handle, with one
 * route that validates a JSON body as the relay does (a schema), INSERTs one row of the baseline
 * table and answers 202 with its id. The send's ratio to it says what the relay's rules, auth
 * and bookkeeping cost on top of HTTP plus one durable write.
 */
export async function startBareRoute(
  db: Database,
  orgId: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.post(
    BARE_ROUTE_PATH,
    {
      schema: {
        body: {
          type: 'object',
          required: ['from', 'to', 'body'],
          additionalProperties: false,
          properties: {
            from: { type: 'string', maxLength: 32 },
            to: { type: 'string', maxLength: 32 },
            body: { type: 'string', minLength: 1, maxLength: 1600 },
          },
        },
      },
    },
    async (request, reply) => {
      const { body } = request.body as { body: string };
      const [row] = await db.query<{ id: string }>(`${BASELINE_INSERT} RETURNING id`, [orgId, body]);
      return reply.code(202).send({ id: row?.id });
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => app.close() };
}
