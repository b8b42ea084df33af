import { useState } from 'preact/hooks';
import type { ApiProblem } from './api.ts';
import { asProblem, type Loaded, useLoad } from './use-load.ts';

/** One page of a keyset-paged list, whatever the route calls its items and cursor. */
export interface ListPage<T> {
  items: T[];
  next: string | null;
}

/** A paged list: the first page (reloaded when `key` changes), older pages appended on demand. */
export interface Pages<T> {
  first: Loaded<ListPage<T>>;
  items: T[];
  next: string | null;
  more(): Promise<void>;
  reload(): void;
  /** A failure while reading an older page (the first page's shows in `first`). */
  problem: ApiProblem | null;
}

export function usePages<T>(read: (cursor: string | null) => Promise<ListPage<T>>, key: string): Pages<T> {
  const [older, setOlder] = useState<ListPage<T> | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [first, reload] = useLoad(async () => {
    setOlder(null);
    setProblem(null);
    return read(null);
  }, key);
  const items = first.state === 'ready' ? [...first.value.items, ...(older?.items ?? [])] : [];
  const next = older === null ? (first.state === 'ready' ? first.value.next : null) : older.next;
  return {
    first,
    items,
    next,
    reload,
    problem,
    async more() {
      if (next === null) return;
      try {
        const page = await read(next);
        setOlder((prev) => ({ items: [...(prev?.items ?? []), ...page.items], next: page.next }));
      } catch (error) {
        setProblem(asProblem(error));
      }
    },
  };
}
