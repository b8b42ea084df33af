import { useCallback, useEffect, useState } from 'preact/hooks';
import { type RelayClient, RelayError } from '../lib/relay/relay-client.ts';
import type { ContactLoad } from './use-contact-load.ts';
import type { ThreadMessages } from './use-thread-messages.ts';

/** Loading the selected sender's conversation, a page at a time, and what went wrong doing it. */
export interface ConversationHistory {
  threadError: unknown;
  loadingOlder: boolean;
  loadOlder(): void;
}

/** History of the selected sender's conversation; live events merge into whatever is loaded. */
export function useConversationHistory(
  client: RelayClient,
  contact: ContactLoad,
  thread: ThreadMessages,
): ConversationHistory {
  const { loaded, sender, source, setOffline } = contact;
  const { show, showPage, merge, setCursor, cursor } = thread;
  const [threadError, setThreadError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);

  useEffect(() => {
    if (source === 'cache' || !loaded) return undefined;
    setThreadError(null);
    const conversation = loaded.conversations.find((c) => c.senderNumber === sender);
    if (!conversation) {
      show([], null);
      return undefined;
    }
    const controller = new AbortController();
    client
      .messages(conversation.id, { limit: 50 }, controller.signal)
      .then((page) => showPage(conversation.id, page.messages, page.nextCursor))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof RelayError && error.status === 0) setOffline(true);
        else setThreadError(error);
      });
    return () => controller.abort();
  }, [client, loaded, sender, source, show, showPage, setOffline]);

  const loadOlder = useCallback(() => {
    const conversation = loaded?.conversations.find((c) => c.senderNumber === sender);
    if (!conversation || !cursor) return;
    setLoadingOlder(true);
    client
      .messages(conversation.id, { limit: 50, cursor })
      .then((page) => {
        merge(page.messages);
        setCursor(page.nextCursor);
      })
      .catch(setThreadError)
      .finally(() => setLoadingOlder(false));
  }, [client, loaded, sender, cursor, merge, setCursor]);

  return { threadError, loadingOlder, loadOlder };
}
