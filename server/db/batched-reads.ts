/**
 * Reads made by many requests at once, answered by one statement (#20 item 1). The first read of
 * a quiet moment goes at once; reads asked while one is in flight wait for it and then go
 * together in the next. So a read never sees older data than it would alone: it always starts
 * after it was asked. Each caller gets its own answer, or the statement's error.
 */
import { BatchQueue } from '../lib/batch-queue.ts';
import type { Queryable } from './database.ts';

interface Waiting<A, R> {
  ask: A;
  resolve(answer: R): void;
  reject(error: unknown): void;
}

/**
 * A queue of asks on one handle: at most two reads in flight (one being answered while the next
 * is being sent), up to 64 asks each. A failed read fails the asks that were in it, each with the
 * database's error, as their own read would have.
 */
function readQueue<A, R>(
  db: Queryable,
  read: (db: Queryable, asks: readonly A[]) => Promise<R[]>,
): BatchQueue<Waiting<A, R>> {
  return new BatchQueue<Waiting<A, R>>(
    async (batch) => {
      const answers = await read(
        db,
        batch.map((w) => w.ask),
      );
      for (const [i, w] of batch.entries()) w.resolve(answers[i] as R);
    },
    { maxBatch: 64, maxConcurrent: 2 },
  );
}

/**
 * One read, batched per database handle (a transaction's handle batches only its own reads).
 * `read` answers a list of asks in one statement, each answer at its ask's index.
 */
export function batchedRead<A, R>(
  read: (db: Queryable, asks: readonly A[]) => Promise<R[]>,
): (db: Queryable, ask: A) => Promise<R> {
  const queues = new WeakMap<Queryable, BatchQueue<Waiting<A, R>>>();
  return (db, ask) => {
    let queue = queues.get(db);
    if (queue === undefined) {
      queue = readQueue(db, read);
      queues.set(db, queue);
    }
    const waiting = queue;
    return new Promise((resolve, reject) => waiting.push({ ask, resolve, reject }));
  };
}
