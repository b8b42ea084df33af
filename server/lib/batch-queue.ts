/** One waiting item of a batch: it can be failed when its batch fails as a whole. */
export interface Settleable {
  reject(error: unknown): void;
}

/**
 * Items queued by concurrent requests, handed out in batches (#20): the first item of a quiet
 * moment goes at once; items queued while `maxConcurrent` batches are in flight wait and go
 * together in the next. `run` settles its batch's items; should it throw, every item of the
 * batch is rejected with its error (settling an already-settled item changes nothing). Shared
 * by the send path's group commit (server/workers/send-batcher.ts) and its batched reads
 * (server/db/batched-reads.ts).
 */
export class BatchQueue<T extends Settleable> {
  #queue: T[] = [];
  #inFlight = 0;

  constructor(
    private readonly run: (batch: T[]) => Promise<void>,
    private readonly limits: { maxBatch: number; maxConcurrent: number },
  ) {}

  push(item: T): void {
    this.#queue.push(item);
    this.#pump();
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.limits.maxConcurrent) {
      const batch = this.#queue.splice(0, this.limits.maxBatch);
      this.#inFlight += 1;
      this.run(batch)
        .catch((error: unknown) => {
          for (const item of batch) item.reject(error);
        })
        .finally(() => {
          this.#inFlight -= 1;
          this.#pump();
        });
    }
  }
}
