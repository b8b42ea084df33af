import Dexie from 'dexie';
import { RelayError, type SendMessageInput } from '../relay/relay-client.ts';
import type { Message } from '../relay-types.ts';
import type { OutboxError, OutboxItem, PanelDb } from './panel-db.ts';

/**
 * The offline outbox: texts the rep sent while the relay could not be reached (or whose outcome was
 * unknown) wait here and go out later, oldest first, with the idempotency key of the first attempt, so
 * the relay deduplicates and a text never goes out twice.
 */

/** An attempt still 'sending' after this long was cut short (tab closed, crash) and is retried. */
export const STUCK_SENDING_MS = 2 * 60 * 1000;
export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_MAX_MS = 60_000;
/** A `Retry-After` beyond this is treated as this, so a bogus header cannot park the outbox for days. */
export const RETRY_AFTER_MAX_MS = 15 * 60 * 1000;

/** True when the relay was not reached at all (network, DNS, CORS): the rep is offline or it is down. */
export function isOffline(error: unknown): boolean {
  return error instanceof RelayError && error.status === 0;
}

/**
 * True when the relay definitely answered no, so retrying the same request cannot help: a 4xx other
 * than 401 (signed out: waits for sign-in), 408 and 429. (A 2xx whose body could not be read is an
 * acceptance, handled before this is asked.)
 */
export function isRefusal(error: unknown): boolean {
  if (!(error instanceof RelayError) || error.outcomeUnknown) return false;
  return error.status !== 401 && error.status !== 408 && error.status !== 429;
}

export interface EnqueueInput {
  scope: string;
  contactKey: string;
  input: SendMessageInput;
  /** The key of the attempt that could not be completed; every later attempt reuses it. */
  idempotencyKey: string;
  /** Why the live attempt did not complete, shown until the next attempt. */
  lastError?: OutboxError | null;
}

/**
 * Stores a text for later sending, state 'waiting'. Enqueuing a key that is already queued (the rep
 * pressed Retry) keeps the existing item as it is.
 */
export async function enqueue(
  db: PanelDb,
  item: EnqueueInput,
  now: number = Date.now(),
): Promise<OutboxItem> {
  return db.transaction('rw', db.outbox, async () => {
    const existing = await db.outbox.get(item.idempotencyKey);
    if (existing) return existing;
    // Strictly after the contact's last queued text, so two sent within a millisecond keep their order.
    const queued = await db.outbox
      .where('[scope+contactKey]')
      .equals([item.scope, item.contactKey])
      .toArray();
    const createdAt = Math.max(now, ...queued.map((q) => q.createdAt + 1));
    const created: OutboxItem = {
      idempotencyKey: item.idempotencyKey,
      scope: item.scope,
      contactKey: item.contactKey,
      input: item.input,
      createdAt,
      state: 'waiting',
      attempts: 0,
      nextAttemptAt: now,
      lastError: item.lastError ?? null,
      sendingSince: null,
    };
    await db.outbox.add(created);
    return created;
  });
}

/** The scope's queued texts, oldest first; only one contact's when `contactKey` is given. */
export async function listOutbox(db: PanelDb, scope: string, contactKey?: string): Promise<OutboxItem[]> {
  const items =
    contactKey === undefined
      ? await db.outbox.where('scope').equals(scope).toArray()
      : await db.outbox.where('[scope+contactKey]').equals([scope, contactKey]).toArray();
  return items.sort(byCreation);
}

/**
 * Removes a queued text the rep gave up on; false when it is not there or an attempt is in flight (it
 * may be going out right now). A text whose earlier attempt had an unknown outcome may still have been
 * delivered: discarding only stops further attempts.
 */
export async function discard(
  db: PanelDb,
  idempotencyKey: string,
  now: number = Date.now(),
): Promise<boolean> {
  return changeIdle(db, idempotencyKey, now, () => db.outbox.delete(idempotencyKey));
}

/**
 * Makes a failed or backed-off text due now with a fresh backoff; false when it is not there or in
 * flight. The caller then flushes. The key stays the same, so a retry can never send it twice.
 */
export async function retryNow(
  db: PanelDb,
  idempotencyKey: string,
  now: number = Date.now(),
): Promise<boolean> {
  return changeIdle(db, idempotencyKey, now, (item) =>
    db.outbox.put({
      ...item,
      state: 'waiting',
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      sendingSince: null,
    }),
  );
}

/** Applies `change` to a queued text that is there and not in flight, in one transaction; false otherwise. */
function changeIdle(
  db: PanelDb,
  idempotencyKey: string,
  now: number,
  change: (item: OutboxItem) => Promise<unknown>,
): Promise<boolean> {
  return db.transaction('rw', db.outbox, async () => {
    const item = await db.outbox.get(idempotencyKey);
    if (!item || inFlight(item, now)) return false;
    await change(item);
    return true;
  });
}

/** Runs `fn` while holding the lock `name`. */
export type LockFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

const tails = new Map<string, Promise<void>>();

/** A mutex shared by everything in this JavaScript realm; the fallback when Web Locks are missing. */
export const processLock: LockFn = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const previous = tails.get(name) ?? Promise.resolve();
  let release: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const mine = previous.then(() => done);
  tails.set(name, mine);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(name) === mine) tails.delete(name);
  }
};

/** Web Locks, shared by every panel tab and the service worker of the extension; else `processLock`. */
function defaultLock(): LockFn {
  const locks = globalThis.navigator?.locks;
  if (!locks) return processLock;
  // The DOM typings return Promise<Promise<T>> for an async callback; request resolves with its result.
  return <T>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as unknown as Promise<T>;
}

export interface OutboxFlusherOptions {
  db: PanelDb;
  scope: string;
  /** One send to the relay, e.g. `(input, key) => client.sendMessage(input, key)`. */
  send: (input: SendMessageInput, idempotencyKey: string) => Promise<Message>;
  now?: () => number;
  /** 0 ≤ n < 1, spreads the retries of many browsers after an outage; `Math.random` by default. */
  random?: () => number;
  lock?: LockFn;
  /** The relay accepted a queued text (the item is already gone from the outbox). */
  onSent?: (item: OutboxItem, message: Message) => void;
  /** Some item of this scope changed state, was sent or was given up on; re-read `listOutbox`. */
  onChange?: () => void;
}

export interface FlushResult {
  sent: number;
  /** Items the relay refused during this pass (now 'failed'). */
  refused: number;
  /** When the earliest waiting item is due (epoch ms), for the caller's timer; null when none waits. */
  retryAt: number | null;
}

type AttemptOutcome = 'sent' | 'refused' | 'retry-later' | 'skipped';

/**
 * Sends one scope's queued texts. One pass at a time per scope across tabs and the service worker (the
 * lock); a second `flush()` waits for the running one and then looks again.
 */
export class OutboxFlusher {
  private readonly db: PanelDb;
  private readonly scope: string;
  private readonly send: OutboxFlusherOptions['send'];
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly lock: LockFn;
  private readonly onSent: NonNullable<OutboxFlusherOptions['onSent']>;
  private readonly onChange: () => void;

  constructor(options: OutboxFlusherOptions) {
    this.db = options.db;
    this.scope = options.scope;
    this.send = options.send;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.lock = options.lock ?? defaultLock();
    this.onSent = options.onSent ?? (() => undefined);
    this.onChange = options.onChange ?? (() => undefined);
  }

  /**
   * Sends the due items oldest first, one at a time, each contact's in creation order: a contact's later
   * texts wait behind one that failed or is backing off. Stops at the first attempt that did not reach a
   * verdict (relay unreachable, 5xx, 408, 429, 401), since the next would most likely fail the same way.
   */
  flush(): Promise<FlushResult> {
    return this.lock(`crm-texting:outbox:${this.scope}`, () => this.pass());
  }

  private async pass(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, refused: 0, retryAt: null };
    if (await this.recoverStuck()) this.onChange();
    for (;;) {
      const item = await this.nextDue();
      if (!item) break;
      const outcome = await this.attempt(item);
      if (outcome === 'sent') result.sent += 1;
      else if (outcome === 'refused') result.refused += 1;
      else if (outcome === 'retry-later') break;
    }
    const waiting = await this.db.outbox.where('[scope+state]').equals([this.scope, 'waiting']).toArray();
    result.retryAt = waiting.length > 0 ? Math.min(...waiting.map((i) => i.nextAttemptAt)) : null;
    return result;
  }

  /** Puts attempts cut short by a closed tab or a crash back in line; the same key makes that safe. */
  private async recoverStuck(): Promise<number> {
    const now = this.now();
    return this.db.outbox
      .where('[scope+state]')
      .equals([this.scope, 'sending'])
      .filter((item) => !inFlight(item, now))
      .modify({ state: 'waiting', sendingSince: null, nextAttemptAt: now });
  }

  private async nextDue(): Promise<OutboxItem | null> {
    const now = this.now();
    const items = await this.db.outbox
      .where('[scope+state]')
      .between([this.scope, Dexie.minKey], [this.scope, Dexie.maxKey])
      .toArray();
    const held = new Set<string>();
    for (const item of items.sort(byCreation)) {
      if (held.has(item.contactKey)) continue;
      if (item.state === 'waiting' && item.nextAttemptAt <= now) return item;
      held.add(item.contactKey);
    }
    return null;
  }

  private async attempt(due: OutboxItem): Promise<AttemptOutcome> {
    const { db } = this;
    const startedAt = this.now();
    // Claimed in a transaction so that even without a shared lock only one flusher sends it.
    const claimed = await db.transaction('rw', db.outbox, async () => {
      const current = await db.outbox.get(due.idempotencyKey);
      if (current?.state !== 'waiting') return null;
      const sending: OutboxItem = {
        ...current,
        state: 'sending',
        attempts: current.attempts + 1,
        sendingSince: startedAt,
      };
      await db.outbox.put(sending);
      return sending;
    });
    if (!claimed) return 'skipped';
    this.onChange();

    let message: Message;
    try {
      message = await this.send(claimed.input, claimed.idempotencyKey);
    } catch (error) {
      if (error instanceof RelayError && error.status >= 200 && error.status < 300) {
        // The relay accepted it but answered in a shape this extension cannot read: it is sent
        // (the live stream shows it); marking it failed would invite the rep to send it again.
        await db.outbox.delete(claimed.idempotencyKey);
        this.onChange();
        return 'sent';
      }
      const lastError = errorOf(error);
      if (isRefusal(error)) {
        await db.outbox.update(claimed.idempotencyKey, { state: 'failed', lastError, sendingSince: null });
        this.onChange();
        return 'refused';
      }
      await db.outbox.update(claimed.idempotencyKey, {
        state: 'waiting',
        lastError,
        sendingSince: null,
        nextAttemptAt: this.now() + this.delayAfter(claimed.attempts, error),
      });
      this.onChange();
      return 'retry-later';
    }
    await db.outbox.delete(claimed.idempotencyKey);
    this.onSent(claimed, message);
    this.onChange();
    return 'sent';
  }

  /** Exponential backoff with ±20 % jitter, capped; never sooner than the relay's `Retry-After`. */
  private delayAfter(attempts: number, error: unknown): number {
    const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
    const jittered = Math.round(exponential * (0.8 + 0.4 * this.random()));
    const retryAfter = error instanceof RelayError ? error.retryAfterSeconds : null;
    if (retryAfter === null) return jittered;
    return Math.max(jittered, Math.min(RETRY_AFTER_MAX_MS, retryAfter * 1000));
  }
}

function inFlight(item: OutboxItem, now: number): boolean {
  return item.state === 'sending' && item.sendingSince !== null && now - item.sendingSince < STUCK_SENDING_MS;
}

function byCreation(a: OutboxItem, b: OutboxItem): number {
  return a.createdAt - b.createdAt || a.idempotencyKey.localeCompare(b.idempotencyKey);
}

function errorOf(error: unknown): OutboxError {
  if (error instanceof RelayError) return { code: error.code, message: error.message };
  return { code: 'UNEXPECTED', message: error instanceof Error ? error.message : String(error) };
}
