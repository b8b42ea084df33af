import { useCallback, useState } from 'preact/hooks';
import type { Message } from '../lib/relay-types.ts';
import { mergeMessages } from '../lib/thread.ts';

/** The messages of the thread on screen and the cursor to older ones. */
export interface ThreadMessages {
  messages: Message[];
  cursor: string | null;
  /** Replaces the thread (the saved copy, or the selected sender's first page). */
  show(messages: Message[], cursor: string | null): void;
  /** Merges messages in by id (a live event, a send, an older page). */
  merge(messages: readonly Message[]): void;
  /** Keeps only one conversation's messages, then merges its newest page. */
  showPage(conversationId: string, messages: readonly Message[], cursor: string | null): void;
  setCursor(cursor: string | null): void;
}

export function useThreadMessages(): ThreadMessages {
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const show = useCallback((next: Message[], nextCursor: string | null) => {
    setMessages(next);
    setCursor(nextCursor);
  }, []);
  const merge = useCallback((incoming: readonly Message[]) => {
    setMessages((current) => mergeMessages(current, incoming));
  }, []);
  const showPage = useCallback((conversationId: string, page: readonly Message[], next: string | null) => {
    // The saved copy may hold messages of another sender's thread; keep only this one's.
    setMessages((current) =>
      mergeMessages(
        current.filter((m) => m.conversationId === conversationId),
        page,
      ),
    );
    setCursor(next);
  }, []);
  return { messages, cursor, show, merge, showPage, setCursor };
}
