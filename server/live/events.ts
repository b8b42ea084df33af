import type { Database, Queryable } from '../db/database.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { openEventPayload, sealEventPayload } from '../stores/message-bodies.ts';
import { phoneNumber } from '../stores/phone-columns.ts';

export const EVENTS_CHANNEL = 'relay_events';

export type EventType =
  | 'message.created'
  | 'message.updated'
  | 'payment.updated'
  | 'inbox.updated'
  | 'conversation.typing';

/**
 * Appends a live event in the caller's transaction; NOTIFY fires when that commits. A message in
 * the payload is stored with its text sealed, and opened again when the event is read.
 */
export async function appendEvent(
  tx: Queryable,
  event: { orgId: string; type: EventType; conversationId: string | null; payload: unknown },
): Promise<void> {
  await tx.query(`INSERT INTO events (org_id, type, conversation_id, payload) VALUES ($1, $2, $3, $4)`, [
    event.orgId,
    event.type,
    event.conversationId,
    JSON.stringify(await sealEventPayload(tx, event.orgId, event.payload)),
  ]);
  await tx.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`);
}

/** Position in the event stream: (transaction id, row id), ordered lexicographically. */
export interface Cursor {
  txId: number;
  id: number;
}

export function formatCursor(cursor: Cursor): string {
  return `${cursor.txId}_${cursor.id}`;
}

export function parseCursor(raw: string): Cursor | null {
  const match = /^(\d{1,15})_(\d{1,15})$/.exec(raw);
  if (match === null) return null;
  return { txId: Number(match[1]), id: Number(match[2]) };
}

const after = (a: Cursor, b: Cursor): boolean => a.txId > b.txId || (a.txId === b.txId && a.id > b.id);

export interface RelayEvent {
  cursor: Cursor;
  orgId: string;
  type: EventType;
  conversationId: string | null;
  payload: unknown;
}

interface EventRow {
  id: number;
  tx_id: number;
  org_id: string;
  type: EventType;
  conversation_id: string | null;
  payload: unknown;
}

/**
 * A payload that did not open (its data key is gone): what it says without what was sealed. The
 * text and the payment's details are left out; the numbers still open (they have their own key),
 * and one that does not either is left out too. Never throws: one bad row must not stop a stream.
 */
function unopenedPayload(db: Queryable, stored: unknown): unknown {
  const { message, payment, ...rest } = (stored ?? {}) as {
    message?: Record<string, unknown>;
    payment?: Record<string, unknown>;
  };
  const number = (value: unknown) => {
    try {
      return typeof value === 'string' ? phoneNumber(db, value) : value;
    } catch {
      // best effort: a number that does not open is left out, like the text.
      return '';
    }
  };
  const { bodyKey: _b, ...text } = message ?? {};
  const { detailsKey: _d, ...details } = payment ?? {};
  return {
    ...rest,
    ...(message === undefined
      ? {}
      : { message: { ...text, from: number(text.from), to: number(text.to), body: '' } }),
    ...(payment === undefined ? {} : { payment: { ...details, description: '', reference: null } }),
  };
}

/**
 * Events as read, their messages' texts opened. A text that does not open (its data key gone or
 * the row damaged) is shown empty and logged: one bad row must not stop every stream behind it.
 */
async function toEvents(
  db: Queryable,
  rows: EventRow[],
  log?: (message: string) => void,
): Promise<RelayEvent[]> {
  const events: RelayEvent[] = [];
  for (const row of rows) {
    let payload: unknown;
    try {
      payload = await openEventPayload(db, row.org_id, row.payload);
    } catch (error) {
      log?.(`event ${row.tx_id}_${row.id}: ${String(error)}`);
      payload = unopenedPayload(db, row.payload);
    }
    events.push({
      cursor: { txId: row.tx_id, id: row.id },
      orgId: row.org_id,
      type: row.type,
      conversationId: row.conversation_id,
      payload,
    });
  }
  return events;
}

// Only rows of transactions older than every running one: nothing can later commit behind them.
const SETTLED = `tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`;
const PAGE = 500;

export interface Subscriber {
  orgId: string;
  deliver(event: RelayEvent): void;
}

/**
 * One per relay process: follows the events table (woken by LISTEN/NOTIFY, with a slow poll as
 * a safety net) and fans each event out to this process's SSE subscribers.
 */
export class EventHub {
  private cursor: Cursor = { txId: 0, id: 0 };
  private readonly subscribers = new Set<Subscriber>();
  private readonly runner: CoalescingRunner;
  private idle = false;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly db: Database,
    private readonly options: { pollMs?: number; log?: (message: string) => void } = {},
  ) {
    this.runner = new CoalescingRunner(
      () => this.drain(),
      (error) => this.options.log?.(`event hub read failed: ${String(error)}`),
    );
  }

  async start(): Promise<void> {
    const rows = await this.db.query<{ xmin: number }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin',
    );
    // Everything from transactions before the oldest running one is history, not news.
    this.cursor = { txId: (rows[0]?.xmin ?? 1) - 1, id: Number.MAX_SAFE_INTEGER };
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, () => this.wake());
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  get position(): Cursor {
    return this.cursor;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Reads events for one org after `from` up to `to` (inclusive), for a resuming client. */
  async backlog(orgId: string, from: Cursor, to: Cursor, limit: number): Promise<RelayEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT id, tx_id, org_id, type, conversation_id, payload FROM events
        WHERE org_id = $1 AND (tx_id, id) > ($2, $3) AND (tx_id, id) <= ($4, $5)
        ORDER BY tx_id, id LIMIT $6`,
      [orgId, from.txId, from.id, to.txId, to.id, limit],
    );
    return toEvents(this.db, rows, this.options.log);
  }

  /** Asks for a read soon; concurrent wake-ups collapse into one more pass. */
  wake(): void {
    this.runner.wake();
  }

  /**
   * With nobody subscribed in this process there is nothing to read for: the hub goes idle
   * instead of querying on every send, and catchUp() jumps it to the present before the next
   * subscriber needs it.
   */
  async catchUp(): Promise<void> {
    if (!this.idle) return;
    this.idle = false;
    const rows = await this.db.query<{ tx_id: number; id: number }>(
      `SELECT tx_id, id FROM events WHERE ${SETTLED} ORDER BY tx_id DESC, id DESC LIMIT 1`,
    );
    const latest = rows[0];
    if (latest !== undefined && after({ txId: latest.tx_id, id: latest.id }, this.cursor)) {
      this.cursor = { txId: latest.tx_id, id: latest.id };
    }
  }

  private async drain(): Promise<void> {
    if (this.subscribers.size === 0) {
      this.idle = true;
      return;
    }
    for (;;) {
      const rows = await this.db.query<EventRow>(
        `SELECT id, tx_id, org_id, type, conversation_id, payload FROM events
          WHERE (tx_id, id) > ($1, $2) AND ${SETTLED}
          ORDER BY tx_id, id LIMIT ${PAGE}`,
        [this.cursor.txId, this.cursor.id],
      );
      for (const event of await toEvents(this.db, rows, this.options.log)) {
        if (!after(event.cursor, this.cursor)) continue;
        // Cursor update and dispatch stay in one synchronous step (see subscribe/backlog use).
        this.cursor = event.cursor;
        for (const subscriber of this.subscribers) {
          if (subscriber.orgId === event.orgId) subscriber.deliver(event);
        }
      }
      if (rows.length < PAGE || this.runner.isStopped) return;
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.unlisten?.();
    await this.runner.stop();
  }
}

export { after as cursorAfter };
