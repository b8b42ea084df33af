/**
 * Reads made by many requests at once, answered by one statement (#20 item 1). The first read of
 * a quiet moment goes at once; reads asked while one is in flight wait for it and then go
 * together in the next. So a read never sees older data than it would alone: it always starts
 * after it was asked. Each caller gets its own answer, or the statement's error.
 */
import type { Queryable } from './database.ts';

/** Reads in flight at once on one handle: one being answered while the next is being sent. */
const MAX_IN_FLIGHT = 2;
const MAX_BATCH = 64;

interface Waiting<A, R> {
  ask: A;
  resolve(answer: R): void;
  reject(error: unknown): void;
}

class Batcher<A, R> {
  private queue: Waiting<A, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Queryable,
    private readonly read: (db: Queryable, asks: readonly A[]) => Promise<R[]>,
  ) {}

  ask(ask: A): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ask, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight += 1;
      this.read(
        this.db,
        batch.map((w) => w.ask),
      )
        .then(
          (answers) => {
            for (const [i, w] of batch.entries()) w.resolve(answers[i] as R);
          },
          // A failed read fails the requests that were in it, each with the database's error,
          // as their own read would have.
          (error: unknown) => {
            for (const w of batch) w.reject(error);
          },
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }
}

/**
 * One read, batched per database handle (a transaction's handle batches only its own reads).
 * `read` answers a list of asks in one statement, each answer at its ask's index.
 */
export function batchedRead<A, R>(
  read: (db: Queryable, asks: readonly A[]) => Promise<R[]>,
): (db: Queryable, ask: A) => Promise<R> {
  const batchers = new WeakMap<Queryable, Batcher<A, R>>();
  return (db, ask) => {
    let batcher = batchers.get(db);
    if (batcher === undefined) {
      batcher = new Batcher(db, read);
      batchers.set(db, batcher);
    }
    return batcher.ask(ask);
  };
}
