import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { EVENT_STREAM_DESCRIPTION } from '../../contract/events.ts';
import { CredentialWatch } from '../auth/credential-watch.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { bindingOf, EventStream, openSseResponse, resumeCursor, STREAM_PERMISSION } from './event-stream.ts';
import { Uuid } from './schemas.ts';

/** The longest id a stream sends: a position with MAX_STREAM_EARLY entries (event-position.ts). */
const EVENT_ID_MAX = 8192;

export const eventsRoutes: RouteModule = (app, { db, hub, clock }) => {
  // Open streams, so shutdown can end them instead of waiting for clients to leave.
  const openStreams = new Set<ServerResponse>();
  const credentials = new CredentialWatch(db);
  app.addHook('onReady', async () => credentials.start());
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.end();
    openStreams.clear();
  });
  app.addHook('onClose', async () => credentials.stop());

  app.get(
    '/v1/events',
    {
      config: requires(STREAM_PERMISSION),
      schema: {
        summary: 'Follow live events',
        description: EVENT_STREAM_DESCRIPTION,
        tags: ['events'],
        response: {
          200: {
            description: 'A server-sent event stream',
            content: {
              'text/event-stream': {
                schema: Type.String({ description: 'SSE frames: id, event and JSON data lines' }),
              },
            },
          },
          ...errorResponses,
        },
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: EVENT_ID_MAX })) }),
        querystring: Type.Object(
          {
            conversationId: Type.Optional(Uuid),
            lastEventId: Type.Optional(Type.String({ maxLength: EVENT_ID_MAX })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const binding = bindingOf(principal);
      const resumeFrom = resumeCursor(request.headers['last-event-id'] ?? request.query.lastEventId);
      await hub.catchUp();
      const raw = reply.raw;
      reply.hijack();
      openSseResponse(raw);
      openStreams.add(raw);
      const stream = new EventStream(
        {
          db,
          hub,
          clock,
          credentials,
          log: request.log,
          raw,
          binding,
          resumeFrom,
          only: request.query.conversationId,
          onClosed: () => openStreams.delete(raw),
        },
        principal,
      );
      stream.listen();
      await stream.replay();
    },
  );
};
