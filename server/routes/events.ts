import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { type Cursor, cursorAfter, formatCursor, parseCursor, type RelayEvent } from '../messaging/events.ts';
import { Uuid } from './schemas.ts';

const BACKLOG_LIMIT = 1000;
const PING_MS = 15_000;

export const eventsRoutes: RouteModule = (app, { hub }) => {
  // Open streams, so shutdown can end them instead of waiting for clients to leave.
  const openStreams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.end();
    openStreams.clear();
  });

  app.get(
    '/v1/events',
    {
      config: requires('conversations.view'),
      schema: {
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) }),
        querystring: Type.Object(
          { conversationId: Type.Optional(Uuid), lastEventId: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      const rawResume = request.headers['last-event-id'] ?? request.query.lastEventId;
      let resumeFrom: Cursor | null = null;
      if (rawResume !== undefined && rawResume !== '') {
        resumeFrom = parseCursor(rawResume);
        if (resumeFrom === null) {
          throw new ApiError(400, 'INVALID_LAST_EVENT_ID', 'Last-Event-ID must be an id this stream sent.');
        }
      }
      const only = request.query.conversationId;
      await hub.catchUp();
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 3000\n: connected\n\n');
      openStreams.add(raw);

      let last: Cursor = resumeFrom ?? hub.position;
      let live = false;
      const buffered: RelayEvent[] = [];
      const send = (event: RelayEvent) => {
        if (!cursorAfter(event.cursor, last)) return;
        last = event.cursor;
        if (only !== undefined && event.conversationId !== only) return;
        raw.write(
          `id: ${formatCursor(event.cursor)}\nevent: ${event.type}\ndata: ${JSON.stringify(event.payload)}\n\n`,
        );
      };
      const unsubscribe = hub.subscribe({
        orgId,
        deliver: (event) => (live ? send(event) : buffered.push(event)),
      });
      const ping = setInterval(() => raw.write(': ping\n\n'), PING_MS);
      const cleanup = () => {
        clearInterval(ping);
        unsubscribe();
        openStreams.delete(raw);
      };
      raw.on('close', cleanup);

      try {
        if (resumeFrom !== null) {
          const upTo = hub.position;
          const backlog = await hub.backlog(orgId, resumeFrom, upTo, BACKLOG_LIMIT);
          for (const event of backlog) send(event);
          if (backlog.length === BACKLOG_LIMIT) {
            // Too far behind to replay: tell the client to reload its views, then go live.
            raw.write(`event: resync\ndata: {"reason":"too many missed events"}\n\n`);
            last = upTo;
          }
        }
      } catch (error) {
        request.log.error({ err: error }, 'event backlog failed');
        raw.write(`event: resync\ndata: {"reason":"backlog unavailable"}\n\n`);
      }
      live = true;
      for (const event of buffered.splice(0)) send(event);
    },
  );
};
