import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { InboxFilter, InboxRow } from '../lib/inbox-types.ts';
import type { RelayClient } from '../lib/relay/relay-client.ts';

/** How long typing in the search box waits before it asks the relay. */
const SEARCH_DELAY_MS = 250;
/** Live changes arriving together refresh the list once. */
const REFRESH_DELAY_MS = 300;

export interface InboxState {
  rows: InboxRow[];
  unreadCount: number;
  /** True while the first page for the current filter and search is on its way. */
  loading: boolean;
  /** True while "Show more" is fetching the next page. */
  loadingMore: boolean;
  hasMore: boolean;
  error: unknown;
  loadMore(): void;
  /** Reads the first page again (after a live change, or on request). */
  refresh(): void;
  /** Marks a conversation unread for the caller, at once on screen and then at the relay. */
  markUnread(conversationId: string): Promise<void>;
}

/**
 * The inbox of the signed-in person: one filter and search at a time, keyset pages, kept current
 * by the live stream (a reply, a routing or read change refreshes the first page, debounced).
 */
export function useInbox(
  client: RelayClient | null,
  filter: InboxFilter,
  search: string,
  subscribeChanges: (listener: () => void) => () => void,
): InboxState {
  const [rows, setRows] = useState<InboxRow[]>([]);
  const [unreadCount, setUnreadCount] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const current = useRef<AbortController | null>(null);

  useEffect(() => {
    if (!client) return undefined;
    const controller = new AbortController();
    current.current = controller;
    setLoading(true);
    const timer = setTimeout(
      () => {
        client
          .inbox({ filter, q: search.trim() || undefined }, controller.signal)
          .then((page) => {
            setRows(page.rows);
            setUnreadCount(page.unreadCount);
            setCursor(page.nextCursor);
            setError(null);
          })
          .catch((e: unknown) => {
            if (!controller.signal.aborted) setError(e);
          })
          .finally(() => {
            if (!controller.signal.aborted) setLoading(false);
          });
      },
      generation === 0 && search === '' ? 0 : SEARCH_DELAY_MS,
    );
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [client, filter, search, generation]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  useRefreshOnChanges(subscribeChanges, refresh);

  const { loadMore, loadingMore } = useLoadMore(client, { filter, search, cursor }, current, {
    setRows,
    setCursor,
    setError,
  });

  const markUnread = useCallback(
    async (conversationId: string) => {
      if (!client) return;
      setRows((before) =>
        before.map((r) => (r.conversationId === conversationId ? { ...r, unread: true } : r)),
      );
      // The relay's answer decides either way: the list is read again after it.
      await client.markUnread(conversationId).catch(setError);
      refresh();
    },
    [client, refresh],
  );

  return {
    rows,
    unreadCount,
    loading,
    loadingMore,
    hasMore: cursor !== null,
    error,
    loadMore,
    refresh,
    markUnread,
  };
}

/** Live changes arriving together refresh the list once, a moment after the last. */
function useRefreshOnChanges(
  subscribeChanges: (listener: () => void) => () => void,
  refresh: () => void,
): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = subscribeChanges(() => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(refresh, REFRESH_DELAY_MS);
    });
    return () => {
      if (timer !== null) clearTimeout(timer);
      unsubscribe();
    };
  }, [subscribeChanges, refresh]);
}

/** "Show more": the next keyset page, appended without repeating a row that moved up meanwhile. */
function useLoadMore(
  client: RelayClient | null,
  query: { filter: InboxFilter; search: string; cursor: string | null },
  current: { current: AbortController | null },
  set: {
    setRows(update: (before: InboxRow[]) => InboxRow[]): void;
    setCursor(cursor: string | null): void;
    setError(error: unknown): void;
  },
): { loadMore(): void; loadingMore: boolean } {
  const [loadingMore, setLoadingMore] = useState(false);
  const { filter, search, cursor } = query;
  const loadMore = useCallback(() => {
    const signal = current.current?.signal;
    if (!client || cursor === null || loadingMore) return;
    setLoadingMore(true);
    client
      .inbox({ filter, q: search.trim() || undefined, cursor }, signal)
      .then((page) => {
        set.setRows((before) => {
          const seen = new Set(before.map((r) => r.conversationId));
          return [...before, ...page.rows.filter((r) => !seen.has(r.conversationId))];
        });
        set.setCursor(page.nextCursor);
      })
      .catch((e: unknown) => {
        if (!signal?.aborted) set.setError(e);
      })
      .finally(() => setLoadingMore(false));
  }, [client, filter, search, cursor, loadingMore, current, set]);
  return { loadMore, loadingMore };
}
