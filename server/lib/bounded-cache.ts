/**
 * A memo of a pure function's answers with a hard size limit (#20): the send path remembers phone
 * checks, zone offsets and quiet-hours verdicts, and what it is asked about is partly chosen by
 * callers (any number, any CRM time zone), so no cache may grow without end. Two generations of
 * half the limit each: new answers go to the young one; when it is full it becomes the old one
 * and the previous old one is dropped; an old answer read again moves back to the young one. So
 * what is in use stays, and a hit costs one lookup, not the reordering an exact LRU needs.
 */
export class BoundedCache<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #generation: number;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 2)
      throw new Error('maxEntries must be an integer >= 2');
    this.#generation = Math.floor(maxEntries / 2);
  }

  /** Entries held now; never more than `maxEntries`. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The remembered value of `key`; values are never `undefined`, which means "not remembered". */
  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#store(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    this.#old.delete(key);
    this.#store(key, value);
  }

  #store(key: K, value: V): void {
    if (!this.#young.has(key) && this.#young.size >= this.#generation) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  /** The remembered answer for `key`, computing and remembering it when there is none. */
  getOrCompute(key: K, compute: () => V): V {
    const known = this.get(key);
    if (known !== undefined) return known;
    const value = compute();
    this.set(key, value);
    return value;
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }
}
