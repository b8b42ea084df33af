import type { Database, Queryable } from '../db/database.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import { openEventPayload, sealEventPayload } from '../stores/message-bodies.ts';
import { phoneNumber } from '../stores/phone-columns.ts';
import {
  advance,
  type Cursor,
  earlyArrays,
  MAX_EARLY,
  type Position,
  positionAt,
  withEvent,
} from './event-position.ts';

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

const PAGE = 500;

/**
 * Events the reader has not had, in (transaction, row) order, with the oldest running transaction
 * of the statement's snapshot. The statement sees every committed transaction of its snapshot,
 * so a transaction's events are read as soon as it commits, even while an older one is still
 * open; `settledOnly` keeps to transactions older than every running one (the horizon alone).
 */
const unread = (
  settledOnly: boolean,
) => `SELECT s.xmin, e.id, e.tx_id, e.org_id, e.type, e.conversation_id, e.payload
  FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) s
  LEFT JOIN LATERAL (
    SELECT id, tx_id, org_id, type, conversation_id, payload FROM events
     WHERE (tx_id, id) > ($1, $2)${settledOnly ? ' AND tx_id < s.xmin' : ''}
       AND NOT EXISTS (SELECT 1 FROM unnest($3::bigint[], $4::bigint[]) AS had(tx, id)
                        WHERE had.tx = events.tx_id AND events.id <= had.id)
     ORDER BY tx_id, id LIMIT ${PAGE}) e ON true`;
const UNREAD = unread(false);
const UNREAD_SETTLED = unread(true);

export interface Subscriber {
  orgId: string;
  /** An event, with the hub's position once it has had it (what the stream has had too). */
  deliver(event: RelayEvent, position: Position): void;
}

/**
 * One per relay process: follows the events table (woken by LISTEN/NOTIFY, with a slow poll as
 * a safety net) and fans each event out to this process's SSE subscribers. It reads a
 * transaction's events as soon as it commits; its position says which it has had
 * (event-position.ts), so a stream resumes exactly where it was.
 */
export class EventHub {
  private current: Position = positionAt({ txId: 0, id: 0 });
  /** This process's subscribers, by org. */
  private readonly subscribers = new Map<string, Set<Subscriber>>();
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
    this.current = positionAt({ txId: (rows[0]?.xmin ?? 1) - 1, id: Number.MAX_SAFE_INTEGER });
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, () => this.wake());
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  get position(): Position {
    return this.current;
  }

  subscribe(subscriber: Subscriber): () => void {
    const { orgId } = subscriber;
    const org = this.subscribers.get(orgId) ?? new Set<Subscriber>();
    org.add(subscriber);
    this.subscribers.set(orgId, org);
    return () => {
      org.delete(subscriber);
      if (org.size === 0 && this.subscribers.get(orgId) === org) this.subscribers.delete(orgId);
    };
  }

  /** One org's events that `to` has had and `from` has not, for a resuming client. */
  async backlog(orgId: string, from: Position, to: Position, limit: number): Promise<RelayEvent[]> {
    const [fromTx, fromId] = earlyArrays(from);
    const [toTx, toId] = earlyArrays(to);
    const rows = await this.db.query<EventRow>(
      `SELECT id, tx_id, org_id, type, conversation_id, payload FROM events
        WHERE org_id = $1 AND (tx_id, id) > ($2, $3)
          AND NOT EXISTS (SELECT 1 FROM unnest($4::bigint[], $5::bigint[]) AS had(tx, id)
                           WHERE had.tx = events.tx_id AND events.id <= had.id)
          AND ((tx_id, id) <= ($6, $7)
               OR EXISTS (SELECT 1 FROM unnest($8::bigint[], $9::bigint[]) AS upto(tx, id)
                           WHERE upto.tx = events.tx_id AND events.id <= upto.id))
        ORDER BY tx_id, id LIMIT $10`,
      [
        orgId,
        from.horizon.txId,
        from.horizon.id,
        fromTx,
        fromId,
        to.horizon.txId,
        to.horizon.id,
        toTx,
        toId,
        limit,
      ],
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
      `SELECT tx_id, id FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
        ORDER BY tx_id DESC, id DESC LIMIT 1`,
    );
    const latest = rows[0];
    if (latest !== undefined) this.current = advance(this.current, { txId: latest.tx_id, id: latest.id });
  }

  private async drain(): Promise<void> {
    if (this.subscribers.size === 0) {
      this.idle = true;
      return;
    }
    for (;;) {
      const [txs, ids] = earlyArrays(this.current);
      const { horizon } = this.current;
      // Reading ahead of the horizon keeps a position per transaction; while too many are
      // open behind, the hub waits for the horizon as it did before reading ahead.
      const ahead = this.current.early.size < MAX_EARLY;
      const rows = await this.db.query<EventRow & { xmin: number }>(ahead ? UNREAD : UNREAD_SETTLED, [
        horizon.txId,
        horizon.id,
        txs,
        ids,
      ]);
      const read = rows.filter((r) => r.id !== null);
      const xmin = rows[0]?.xmin ?? 0;
      const opened = await this.openForSubscribers(read);
      for (const row of read) {
        // Position and dispatch stay in one synchronous step (see subscribe/backlog use). An
        // event of an ended transaction comes after every other such one it is read with, so
        // the horizon moves up to it; one of a transaction that ended while an older one runs
        // is kept as read ahead.
        const cursor = { txId: row.tx_id, id: row.id };
        this.current = cursor.txId < xmin ? advance(this.current, cursor) : withEvent(this.current, cursor);
        const event = opened.get(row);
        if (event === undefined) continue;
        for (const subscriber of this.subscribers.get(row.org_id) ?? [])
          subscriber.deliver(event, this.current);
      }
      if (read.length === PAGE && !this.runner.isStopped) continue;
      // Every transaction before the snapshot's oldest running one has ended, and this pass
      // read all it could see: the horizon moves up to there.
      if (xmin > 0) this.current = advance(this.current, { txId: xmin - 1, id: Number.MAX_SAFE_INTEGER });
      return;
    }
  }

  /**
   * The rows' events for the orgs someone here follows, opened; another org's event is only
   * passed over (its text is not decrypted for nobody). A stream may subscribe while texts are
   * being opened, so this repeats until every row of a subscribed org is open: the dispatch that
   * follows runs without a pause, and sees the same subscribers.
   */
  private async openForSubscribers(rows: EventRow[]): Promise<Map<EventRow, RelayEvent>> {
    const opened = new Map<EventRow, RelayEvent>();
    for (;;) {
      const wanted = rows.filter((r) => !opened.has(r) && this.subscribers.has(r.org_id));
      if (wanted.length === 0) return opened;
      const events = await toEvents(this.db, wanted, this.options.log);
      wanted.forEach((row, i) => {
        const event = events[i];
        if (event !== undefined) opened.set(row, event);
      });
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.unlisten?.();
    await this.runner.stop();
  }
}
