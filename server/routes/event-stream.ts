import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { CredentialWatch } from '../auth/credential-watch.ts';
import type { Permission } from '../auth/permissions.ts';
import { type CredentialBinding, credentialStanding, type Standing } from '../auth/standing.ts';
import type { Clock } from '../clock.ts';
import { ApiError } from '../errors.ts';
import { confinedToUser, messageFor, type Principal, seesPii, visibleConversations } from '../http/access.ts';
import type { Deps } from '../http/services.ts';
import {
  bounded,
  covers,
  formatPosition,
  type Position,
  parsePosition,
  positionAt,
  union,
  withEvent,
} from '../live/event-position.ts';
import type { RelayEvent } from '../live/events.ts';

const BACKLOG_LIMIT = 1000;
const PING_MS = 15_000;

/** What a stream needs, at its start and for as long as it stays open. */
export const STREAM_PERMISSION: Permission = 'conversations.view';

/**
 * How often an open stream re-reads its credential even without a notice: the safety net for a
 * NOTIFY lost while a LISTEN connection was being re-established.
 */
const RECHECK_MS = 60_000;

/**
 * An event's SSE frame after its id line, made once per view (numbers as they are, or masked)
 * however many streams of the org carry it: with 20 panels open, each event was serialised 20
 * times (#20). The id is each stream's own position.
 */
const frames = new WeakMap<RelayEvent, { pii?: string; masked?: string }>();

function frameFor(principal: Principal, event: RelayEvent): string {
  let made = frames.get(event);
  if (made === undefined) {
    made = {};
    frames.set(event, made);
  }
  const view = seesPii(principal) ? 'pii' : 'masked';
  const cached = made[view];
  if (cached !== undefined) return cached;
  const frame = `event: ${event.type}\ndata: ${JSON.stringify(payloadFor(principal, event.payload))}\n\n`;
  made[view] = frame;
  return frame;
}

/** An event's payload as the principal may see it (phone numbers masked without pii.view). */
function payloadFor(principal: Principal, payload: unknown): unknown {
  if (seesPii(principal) || typeof payload !== 'object' || payload === null) return payload;
  const message = (payload as { message?: unknown }).message;
  if (typeof message !== 'object' || message === null) return payload;
  const m = message as { from?: unknown; to?: unknown };
  if (typeof m.from !== 'string' || typeof m.to !== 'string') return payload;
  return { ...payload, message: messageFor(principal, { ...m, from: m.from, to: m.to }) };
}

/** The credential a stream was opened with; it lives only as long as that does. */
export function bindingOf(principal: Principal): CredentialBinding {
  if (principal.sessionId !== null) {
    if (principal.expiresAt === null) throw new Error('a session principal without an expiry');
    return { kind: 'session', sessionId: principal.sessionId, tokenExpiresAt: principal.expiresAt };
  }
  if (principal.keyId === null) throw new Error('a principal with neither session nor key');
  return { kind: 'key', keyId: principal.keyId };
}

/** Where a reconnecting client resumes (its Last-Event-ID), or null for a fresh stream. */
export function resumeCursor(rawResume: string | undefined): Position | null {
  if (rawResume === undefined || rawResume === '') return null;
  const cursor = parsePosition(rawResume);
  if (cursor === null) {
    throw new ApiError(400, 'INVALID_LAST_EVENT_ID', 'Last-Event-ID must be an id this stream sent.');
  }
  return cursor;
}

/** Takes the response over from Fastify and opens it as a server-sent event stream. */
export function openSseResponse(raw: ServerResponse): void {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 3000\n: connected\n\n');
}

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The services and the stream-wide facts an open event stream works with. */
export interface EventStreamContext {
  db: Deps['db'];
  hub: Deps['hub'];
  clock: Clock;
  credentials: CredentialWatch;
  log: FastifyBaseLogger;
  raw: ServerResponse;
  binding: CredentialBinding;
  resumeFrom: Position | null;
  /** Only this conversation's events, when the client asked for one. */
  only: string | undefined;
  /** Called once when the stream ends, by either side. */
  onClosed: () => void;
}

/**
 * One client's open event stream: replays what it missed, then follows the hub live, judging every
 * event by the caller's permissions as of when it is sent, and ends when the credential does.
 */
export class EventStream {
  /** The caller as of now: replaced whenever its credential is re-read. */
  private principal: Principal;
  // The hub delivers per org; a principal confined to its own conversations gets only events
  // of conversations it may see. Known visible ids are cached until the credential is re-read;
  // an event for any other conversation is checked against the database (it may have just
  // sent there).
  private confined: string | null;
  private readonly visible = new Set<string>();
  // Every step (an event, a re-check of the credential, a notice to the client) runs one
  // after another, so events keep their order and none overtakes a re-check queued before it.
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The events this stream has had (sent, or passed over as not its own): its position. */
  private last: Position;
  private live = false;
  private readonly buffered: [RelayEvent, Position][] = [];
  /** When the credential ends by itself (an access token's expiry), by the relay's clock. */
  private endsAt: Date | null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private recheckQueued = false;
  private ping: NodeJS.Timeout | null = null;
  private safetyNet: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private unwatch: (() => void) | null = null;

  private readonly ctx: EventStreamContext;

  constructor(ctx: EventStreamContext, principal: Principal) {
    this.ctx = ctx;
    this.principal = principal;
    this.confined = confinedToUser(principal);
    this.last = ctx.resumeFrom ?? ctx.hub.position;
    this.endsAt = principal.expiresAt;
  }

  /** Subscribes to the hub and the credential's notices, and starts the timers. */
  listen(): void {
    const { hub, credentials, raw } = this.ctx;
    const { orgId } = this.principal;
    this.unsubscribe = hub.subscribe({
      orgId,
      deliver: (event, position) =>
        this.live ? this.send(event, position) : this.buffered.push([event, position]),
    });
    this.unwatch = credentials.watch({
      orgId,
      userId: this.principal.userId,
      sessionId: this.principal.sessionId,
      keyId: this.principal.keyId,
      role: () => this.principal.role,
      onNotice: this.requestRecheck,
    });
    this.ping = setInterval(() => {
      if (this.expired()) this.requestRecheck();
      else if (!raw.writableEnded) raw.write(': ping\n\n');
    }, PING_MS);
    this.safetyNet = setInterval(this.requestRecheck, RECHECK_MS);
    raw.on('close', this.cleanup);
    // A change committed between authentication and the watch above sent its notice to nobody:
    // read the credential once more now that notices reach this stream.
    this.requestRecheck();
  }

  /** Replays the backlog after the client's cursor, then goes live with what arrived meanwhile. */
  async replay(): Promise<void> {
    const { hub, resumeFrom } = this.ctx;
    try {
      if (resumeFrom !== null) {
        const upTo = hub.position;
        const backlog = await hub.backlog(this.principal.orgId, resumeFrom, upTo, BACKLOG_LIMIT);
        // The backlog comes in order and holds every event of this org upTo has had: once past
        // upTo's horizon, the stream has had everything up to the event it sends.
        const settled = positionAt(upTo.horizon);
        for (const event of backlog)
          this.send(event, covers(settled, event.cursor) ? positionAt(event.cursor) : null);
        if (backlog.length === BACKLOG_LIMIT) {
          // Too far behind to replay: tell the client to reload its views, then go live.
          this.notify('too many missed events');
          this.last = upTo;
        } else {
          // Everything of this org the hub had at upTo has now been sent.
          this.last = union(this.last, upTo);
        }
      }
    } catch (error) {
      this.ctx.log.error({ err: error }, 'event backlog failed');
      this.notify('backlog unavailable');
    }
    this.live = true;
    for (const [event, position] of this.buffered.splice(0)) this.send(event, position);
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.chain = this.chain
      .then(() => (this.closed ? undefined : step()))
      .catch((error: unknown) => {
        // A step that failed unexpectedly leaves the stream in an unknown state: end it.
        this.ctx.log.error({ err: error }, 'event stream step failed');
        this.end('resync', { reason: 'stream failed' });
      });
  }

  private expired(): boolean {
    return this.endsAt !== null && this.ctx.clock().getTime() >= this.endsAt.getTime();
  }

  private write(event: RelayEvent, id: string): void {
    const { raw } = this.ctx;
    if (raw.writableEnded) return;
    raw.write(`id: ${id}\n${frameFor(this.principal, event)}`);
  }

  /** Says why the stream ends, then ends it; nothing is sent after this. */
  private end(event: 'revoked' | 'resync', data: { reason: string }): void {
    const { raw } = this.ctx;
    if (this.closed) return;
    if (!raw.writableEnded) {
      raw.write(sse(event, data));
      raw.end();
    }
    this.cleanup();
  }

  private async recheck(): Promise<void> {
    let standing: Standing;
    try {
      standing = await credentialStanding(this.ctx.db, this.ctx.binding, this.ctx.clock());
    } catch (error) {
      // Unable to tell whether the caller may still listen: stop, and let the client's
      // reconnect authenticate afresh.
      this.ctx.log.error({ err: error }, 'event stream credential check failed');
      return this.end('resync', { reason: 'credential check failed' });
    }
    if (!standing.valid) return this.end('revoked', { reason: standing.reason });
    if (!standing.permissions.includes(STREAM_PERMISSION))
      return this.end('revoked', { reason: 'role_changed' });
    this.principal = { ...this.principal, role: standing.role, permissions: standing.permissions };
    this.confined = confinedToUser(this.principal);
    this.visible.clear();
    this.endsAt = standing.endsAt;
    this.armExpiry();
  }

  // Notices often come in bursts (a deactivation revokes every session and key): one queued
  // re-check answers all that arrived before it started.
  private readonly requestRecheck = (): void => {
    if (this.recheckQueued) return;
    this.recheckQueued = true;
    this.enqueue(() => {
      this.recheckQueued = false;
      return this.recheck();
    });
  };

  private armExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.endsAt === null || this.closed) return;
    // Real time until the relay clock's instant; events and pings also look at the clock,
    // so a clock that is moved (tests) is noticed at the next of them.
    const wait = Math.max(0, this.endsAt.getTime() - this.ctx.clock().getTime());
    this.expiryTimer = setTimeout(this.requestRecheck, wait);
  }

  private async deliver(event: RelayEvent, id: string): Promise<void> {
    if (this.expired()) {
      await this.recheck();
      if (this.closed) return;
    }
    const conversationId = event.conversationId;
    if (this.confined !== null) {
      if (conversationId === null) return;
      if (!this.visible.has(conversationId)) {
        try {
          const found = await visibleConversations(this.ctx.db, this.principal, [conversationId]);
          if (found.has(conversationId)) this.visible.add(conversationId);
        } catch (error) {
          this.ctx.log.error({ err: error }, 'event visibility check failed');
          const { raw } = this.ctx;
          if (!raw.writableEnded) raw.write(sse('resync', { reason: 'visibility check failed' }));
          return;
        }
      }
      if (!this.visible.has(conversationId)) return;
    }
    this.write(event, id);
  }

  /**
   * Takes one event, unless the stream has had it. `hubPosition` is what the stream has had once
   * it has this event (the hub's position then, for a live one), or null when that is not known:
   * it keeps the stream's position as short as the hub's.
   */
  private send(event: RelayEvent, hubPosition: Position | null): void {
    const had = covers(this.last, event.cursor);
    const next = had ? this.last : withEvent(this.last, event.cursor);
    this.last = bounded(hubPosition === null ? next : union(next, hubPosition));
    if (had) return;
    if (this.ctx.only !== undefined && event.conversationId !== this.ctx.only) return;
    // The id is the position with this event, not whatever it is by the time the frame is written.
    const id = formatPosition(this.last);
    this.enqueue(() => this.deliver(event, id));
  }

  private notify(reason: string): void {
    this.enqueue(() => {
      if (!this.ctx.raw.writableEnded) this.ctx.raw.write(sse('resync', { reason }));
    });
  }

  private readonly cleanup = (): void => {
    this.closed = true;
    if (this.ping !== null) clearInterval(this.ping);
    if (this.safetyNet !== null) clearInterval(this.safetyNet);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.unsubscribe?.();
    this.unwatch?.();
    this.ctx.onClosed();
  };
}
