import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { ApiError } from '../errors.ts';
import {
  confinedToUser,
  messageFor,
  type Principal,
  principalOf,
  requires,
  seesPii,
  visibleConversations,
} from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { type Cursor, cursorAfter, formatCursor, parseCursor, type RelayEvent } from '../messaging/events.ts';
import { Uuid } from './schemas.ts';

const BACKLOG_LIMIT = 1000;
const PING_MS = 15_000;

/** An event's payload as the principal may see it (phone numbers masked without pii.view). */
function payloadFor(principal: Principal, payload: unknown): unknown {
  if (seesPii(principal) || typeof payload !== 'object' || payload === null) return payload;
  const message = (payload as { message?: unknown }).message;
  if (typeof message !== 'object' || message === null) return payload;
  const m = message as { from?: unknown; to?: unknown };
  if (typeof m.from !== 'string' || typeof m.to !== 'string') return payload;
  return { ...payload, message: messageFor(principal, { ...m, from: m.from, to: m.to }) };
}

export const eventsRoutes: RouteModule = (app, { db, hub }) => {
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
      const principal = principalOf(request);
      const { orgId } = principal;
      // The hub delivers per org; a principal confined to its own conversations gets only events
      // of conversations it may see. Known visible ids are cached for the connection; an event
      // for any other conversation is checked against the database (it may have just sent there).
      const confined = confinedToUser(principal);
      const visible = new Set<string>();
      let chain: Promise<void> = Promise.resolve();
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
      const write = (event: RelayEvent) => {
        if (raw.writableEnded) return;
        raw.write(
          `id: ${formatCursor(event.cursor)}\nevent: ${event.type}\ndata: ${JSON.stringify(payloadFor(principal, event.payload))}\n\n`,
        );
      };
      const send = (event: RelayEvent) => {
        if (!cursorAfter(event.cursor, last)) return;
        last = event.cursor;
        if (only !== undefined && event.conversationId !== only) return;
        if (confined === null) return write(event);
        const conversationId = event.conversationId;
        if (conversationId === null) return;
        // Checks run one after another so events keep their order.
        chain = chain.then(async () => {
          if (!visible.has(conversationId)) {
            try {
              const found = await visibleConversations(db, principal, [conversationId]);
              if (found.has(conversationId)) visible.add(conversationId);
            } catch (error) {
              request.log.error({ err: error }, 'event visibility check failed');
              if (!raw.writableEnded)
                raw.write(`event: resync\ndata: {"reason":"visibility check failed"}\n\n`);
              return;
            }
          }
          if (visible.has(conversationId)) write(event);
        });
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
