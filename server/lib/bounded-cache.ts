/**
 * A memo of a pure function's answers with a hard size limit (#20): the send path remembers phone
 * checks, zone offsets and quiet-hours verdicts, and what it is asked about is partly chosen by
 * callers (any number, any CRM time zone), so no cache may grow without end. Least recently used
 * entries go first; a Map keeps insertion order, so a hit is re-inserted to become the newest.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new Error('maxEntries must be a positive integer');
  }

  /** Entries held now; never more than `maxEntries`. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
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
    this.#entries.clear();
  }
}
