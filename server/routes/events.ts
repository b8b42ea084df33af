import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { EVENT_STREAM_DESCRIPTION } from '../../contract/events.ts';
import { CredentialWatch } from '../auth/credential-watch.ts';
import type { Permission } from '../auth/permissions.ts';
import { type CredentialBinding, credentialStanding, type Standing } from '../auth/standing.ts';
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
import type { RouteModule } from '../http/services.ts';
import { type Cursor, cursorAfter, formatCursor, parseCursor, type RelayEvent } from '../live/events.ts';
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

/** What a stream needs, at its start and for as long as it stays open. */
const STREAM_PERMISSION: Permission = 'conversations.view';

/**
 * How often an open stream re-reads its credential even without a notice: the safety net for a
 * NOTIFY lost while a LISTEN connection was being re-established.
 */
const RECHECK_MS = 60_000;

/** The credential a stream was opened with; it lives only as long as that does. */
function bindingOf(principal: Principal): CredentialBinding {
  if (principal.sessionId !== null) {
    if (principal.expiresAt === null) throw new Error('a session principal without an expiry');
    return { kind: 'session', sessionId: principal.sessionId, tokenExpiresAt: principal.expiresAt };
  }
  if (principal.keyId === null) throw new Error('a principal with neither session nor key');
  return { kind: 'key', keyId: principal.keyId };
}

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

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
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) }),
        querystring: Type.Object(
          { conversationId: Type.Optional(Uuid), lastEventId: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      // The caller as of now: replaced whenever its credential is re-read, so every event is
      // judged by the permissions the caller holds when it is sent, not when the stream opened.
      let principal = principalOf(request);
      const { orgId } = principal;
      const binding = bindingOf(principal);
      // The hub delivers per org; a principal confined to its own conversations gets only events
      // of conversations it may see. Known visible ids are cached until the credential is re-read;
      // an event for any other conversation is checked against the database (it may have just
      // sent there).
      let confined = confinedToUser(principal);
      const visible = new Set<string>();
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

      // Every step (an event, a re-check of the credential, a notice to the client) runs one
      // after another, so events keep their order and none overtakes a re-check queued before it.
      let chain: Promise<void> = Promise.resolve();
      let closed = false;
      const enqueue = (step: () => Promise<void> | void): void => {
        chain = chain
          .then(() => (closed ? undefined : step()))
          .catch((error: unknown) => {
            // A step that failed unexpectedly leaves the stream in an unknown state: end it.
            request.log.error({ err: error }, 'event stream step failed');
            end('resync', { reason: 'stream failed' });
          });
      };

      let last: Cursor = resumeFrom ?? hub.position;
      let live = false;
      const buffered: RelayEvent[] = [];
      // When the credential ends by itself (an access token's expiry), by the relay's clock.
      let endsAt: Date | null = principal.expiresAt;
      let expiryTimer: NodeJS.Timeout | null = null;
      const expired = (): boolean => endsAt !== null && clock().getTime() >= endsAt.getTime();

      const write = (event: RelayEvent) => {
        if (raw.writableEnded) return;
        raw.write(
          `id: ${formatCursor(event.cursor)}\nevent: ${event.type}\ndata: ${JSON.stringify(payloadFor(principal, event.payload))}\n\n`,
        );
      };
      // Says why the stream ends, then ends it; nothing is sent after this.
      const end = (event: 'revoked' | 'resync', data: { reason: string }): void => {
        if (closed) return;
        if (!raw.writableEnded) {
          raw.write(sse(event, data));
          raw.end();
        }
        cleanup();
      };

      const recheck = async (): Promise<void> => {
        let standing: Standing;
        try {
          standing = await credentialStanding(db, binding, clock());
        } catch (error) {
          // Unable to tell whether the caller may still listen: stop, and let the client's
          // reconnect authenticate afresh.
          request.log.error({ err: error }, 'event stream credential check failed');
          return end('resync', { reason: 'credential check failed' });
        }
        if (!standing.valid) return end('revoked', { reason: standing.reason });
        if (!standing.permissions.includes(STREAM_PERMISSION))
          return end('revoked', { reason: 'role_changed' });
        principal = { ...principal, role: standing.role, permissions: standing.permissions };
        confined = confinedToUser(principal);
        visible.clear();
        endsAt = standing.endsAt;
        armExpiry();
      };
      // Notices often come in bursts (a deactivation revokes every session and key): one queued
      // re-check answers all that arrived before it started.
      let recheckQueued = false;
      const requestRecheck = (): void => {
        if (recheckQueued) return;
        recheckQueued = true;
        enqueue(() => {
          recheckQueued = false;
          return recheck();
        });
      };
      function armExpiry(): void {
        if (expiryTimer !== null) clearTimeout(expiryTimer);
        expiryTimer = null;
        if (endsAt === null || closed) return;
        // Real time until the relay clock's instant; events and pings also look at the clock,
        // so a clock that is moved (tests) is noticed at the next of them.
        expiryTimer = setTimeout(requestRecheck, Math.max(0, endsAt.getTime() - clock().getTime()));
      }

      const deliver = async (event: RelayEvent): Promise<void> => {
        if (expired()) {
          await recheck();
          if (closed) return;
        }
        const conversationId = event.conversationId;
        if (confined !== null) {
          if (conversationId === null) return;
          if (!visible.has(conversationId)) {
            try {
              const found = await visibleConversations(db, principal, [conversationId]);
              if (found.has(conversationId)) visible.add(conversationId);
            } catch (error) {
              request.log.error({ err: error }, 'event visibility check failed');
              if (!raw.writableEnded) raw.write(sse('resync', { reason: 'visibility check failed' }));
              return;
            }
          }
          if (!visible.has(conversationId)) return;
        }
        write(event);
      };
      const send = (event: RelayEvent) => {
        if (!cursorAfter(event.cursor, last)) return;
        last = event.cursor;
        if (only !== undefined && event.conversationId !== only) return;
        enqueue(() => deliver(event));
      };
      const notify = (reason: string) =>
        enqueue(() => {
          if (!raw.writableEnded) raw.write(sse('resync', { reason }));
        });

      const unsubscribe = hub.subscribe({
        orgId,
        deliver: (event) => (live ? send(event) : buffered.push(event)),
      });
      const unwatch = credentials.watch({
        orgId,
        userId: principal.userId,
        sessionId: principal.sessionId,
        keyId: principal.keyId,
        role: () => principal.role,
        onNotice: requestRecheck,
      });
      const ping = setInterval(() => {
        if (expired()) requestRecheck();
        else if (!raw.writableEnded) raw.write(': ping\n\n');
      }, PING_MS);
      const safetyNet = setInterval(requestRecheck, RECHECK_MS);
      function cleanup(): void {
        closed = true;
        clearInterval(ping);
        clearInterval(safetyNet);
        if (expiryTimer !== null) clearTimeout(expiryTimer);
        unsubscribe();
        unwatch();
        openStreams.delete(raw);
      }
      raw.on('close', cleanup);
      // A change committed between authentication and the watch above sent its notice to nobody:
      // read the credential once more now that notices reach this stream.
      requestRecheck();

      try {
        if (resumeFrom !== null) {
          const upTo = hub.position;
          const backlog = await hub.backlog(orgId, resumeFrom, upTo, BACKLOG_LIMIT);
          for (const event of backlog) send(event);
          if (backlog.length === BACKLOG_LIMIT) {
            // Too far behind to replay: tell the client to reload its views, then go live.
            notify('too many missed events');
            last = upTo;
          }
        }
      } catch (error) {
        request.log.error({ err: error }, 'event backlog failed');
        notify('backlog unavailable');
      }
      live = true;
      for (const event of buffered.splice(0)) send(event);
    },
  );
};
