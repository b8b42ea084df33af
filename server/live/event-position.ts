/**
 * Where a reader of the events table stands: which events it has had. Events are ordered by
 * (transaction id, row id), but transactions commit in another order, so what a reader has had is
 * not always a prefix of that order. A position is a prefix (every event up to `horizon`) plus,
 * above it, the transactions already read whole or in part (`early`: transaction id -> the last
 * row id had). The event hub reads a transaction's events as soon as it commits, even while an
 * older transaction is still open, and the stream's Last-Event-ID is such a position: a client
 * that reconnects gets what it missed, none twice unless its position had to be trimmed (bounded)
 * (issue #20: one open transaction held every org's live events back until it ended).
 */

/** A point in the (transaction id, row id) order. */
export interface Cursor {
  txId: number;
  id: number;
}

export interface Position {
  horizon: Cursor;
  /** Transactions above the horizon had up to the given row id, ascending by transaction id. */
  early: ReadonlyMap<number, number>;
}

/**
 * Transactions the hub reads ahead of its horizon at most (about 200 ms of commits under a load
 * of sends and webhooks); beyond that it waits for the horizon.
 */
export const MAX_EARLY = 64;
/**
 * Entries a stream's position (and so a Last-Event-ID, at most about 7 KB) carries at most: a
 * stream resumed from another relay's position holds that one's and this hub's for a moment.
 */
export const MAX_STREAM_EARLY = 4 * MAX_EARLY;

const after = (a: Cursor, b: Cursor): boolean => a.txId > b.txId || (a.txId === b.txId && a.id > b.id);

export const positionAt = (horizon: Cursor): Position => ({ horizon, early: new Map() });

/** Whether the event at `c` is among those the position has had. */
export function covers(p: Position, c: Cursor): boolean {
  if (!after(c, p.horizon)) return true;
  const last = p.early.get(c.txId);
  return last !== undefined && c.id <= last;
}

/** The horizon raised to `horizon` (if that is further on), with the entries it now covers dropped. */
export function advance(p: Position, horizon: Cursor): Position {
  if (!after(horizon, p.horizon)) return p;
  const early = new Map<number, number>();
  for (const [txId, id] of p.early) if (after({ txId, id }, horizon)) early.set(txId, id);
  return { horizon, early };
}

/** The position that has also had the event at `c`. */
export function withEvent(p: Position, c: Cursor): Position {
  if (covers(p, c)) return p;
  const early = new Map(p.early);
  // The hub reads in (transaction, row) order: a new entry usually goes last, already in order.
  const inOrder = p.early.has(c.txId) || [...p.early.keys()].every((txId) => txId < c.txId);
  early.set(c.txId, c.id);
  return { horizon: p.horizon, early: inOrder ? early : sortedByTx(early) };
}

/** Everything either position has had. */
export function union(a: Position, b: Position): Position {
  const [further, other] = after(b.horizon, a.horizon) ? [b, a] : [a, b];
  const behind = advance(other, further.horizon).early;
  // Most of the time (every event of a live stream) nothing is read ahead on the lagging side.
  if (behind.size === 0) return further;
  const early = new Map(further.early);
  for (const [txId, id] of behind) early.set(txId, Math.max(id, early.get(txId) ?? 0));
  return { horizon: further.horizon, early: sortedByTx(early) };
}

function sortedByTx(early: Map<number, number>): Map<number, number> {
  return new Map([...early].sort((x, y) => x[0] - y[0]));
}

/**
 * The position kept within MAX_STREAM_EARLY entries by forgetting the newest: it then claims less
 * than was had, so a client resuming from it may get those events again, never miss one.
 */
export function bounded(p: Position): Position {
  if (p.early.size <= MAX_STREAM_EARLY) return p;
  return { horizon: p.horizon, early: new Map([...p.early].slice(0, MAX_STREAM_EARLY)) };
}

/**
 * "tx_id" of the horizon, then ".dtx_id" per early transaction (dtx: its id above the horizon's,
 * to keep the id short): the id the event stream sends.
 */
export function formatPosition(p: Position): string {
  let text = `${p.horizon.txId}_${p.horizon.id}`;
  for (const [txId, id] of p.early) text += `.${txId - p.horizon.txId}_${id}`;
  return text;
}

const PART = /^(\d{1,15})_(\d{1,16})$/;

/** A position as formatPosition wrote it, or null for anything else. */
export function parsePosition(raw: string): Position | null {
  const parts = raw.split('.');
  if (parts.length > 1 + MAX_STREAM_EARLY) return null;
  const cursors: Cursor[] = [];
  for (const part of parts) {
    const match = PART.exec(part);
    if (match === null) return null;
    const cursor = { txId: Number(match[1]), id: Number(match[2]) };
    if (!Number.isSafeInteger(cursor.id)) return null;
    cursors.push(cursor);
  }
  const [horizon, ...rest] = cursors as [Cursor, ...Cursor[]];
  const early = new Map<number, number>();
  let previous = horizon.txId;
  for (const c of rest) {
    const txId = horizon.txId + c.txId;
    // Written ascending and above the horizon; anything else was not written by this relay.
    if (txId <= previous || !Number.isSafeInteger(txId)) return null;
    early.set(txId, c.id);
    previous = txId;
  }
  return { horizon, early };
}

/** The early entries as two parallel arrays, for SQL (unnest of transaction ids and row ids). */
export function earlyArrays(p: Position): [number[], number[]] {
  return [[...p.early.keys()], [...p.early.values()]];
}
