import { useCallback, useEffect, useState } from 'preact/hooks';
import type { RelayError, SendMessageInput } from '../lib/relay/relay-client.ts';
import type { Message } from '../lib/relay-types.ts';
import type { PendingItem } from '../lib/store/local-store.ts';
import type { PanelStore } from '../lib/store/store-client.ts';

/** This contact's texts in the offline outbox, and queueing one. */
export interface ContactOutbox {
  pending: PendingItem[];
  /** Keeps a text to send when the relay is back (`error`: why it could not go now; null: it queues behind others). */
  queue(input: SendMessageInput, key: string, error: RelayError | null): Promise<void>;
}

/** Follows the outbox for one contact; texts it sends merge into the thread through `onSent`. */
export function useOutbox(
  store: PanelStore | null,
  contactKey: string,
  onSent: (messages: readonly Message[]) => void,
): ContactOutbox {
  const [pending, setPending] = useState<PendingItem[]>([]);
  useEffect(() => {
    if (!store) return undefined;
    const refresh = (): void => {
      store
        .pending(contactKey)
        .then(setPending)
        .catch((error: unknown) => console.warn('[crm-texting] could not read the outbox', error));
    };
    refresh();
    return store.onOutboxChange(refresh);
  }, [store, contactKey]);

  useEffect(() => {
    if (!store) return undefined;
    return store.onSent((sentKey, message) => {
      if (sentKey === contactKey) onSent([message]);
    });
  }, [store, contactKey, onSent]);

  const queue = useCallback(
    async (input: SendMessageInput, key: string, error: RelayError | null) => {
      if (!store) throw error ?? new Error('No local store to keep the text in');
      await store.enqueue(
        contactKey,
        input,
        key,
        error ? { code: error.code, message: error.message } : null,
      );
      if (error === null) store.flushSoon();
    },
    [store, contactKey],
  );
  return { pending, queue };
}
