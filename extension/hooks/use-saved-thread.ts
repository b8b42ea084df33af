import { useEffect } from 'preact/hooks';
import type { ContactRef } from '../hosts/types.ts';
import type { PanelStore } from '../lib/store/store-client.ts';
import type { ContactLoad } from './use-contact-load.ts';
import type { ThreadMessages } from './use-thread-messages.ts';

/** Keeps the saved copy current: what the rep saw last is what shows first next time. */
export function useSavedThread(
  store: PanelStore | null,
  contactRef: ContactRef,
  contact: ContactLoad,
  thread: ThreadMessages,
): void {
  const { loaded, sender, source } = contact;
  const { messages, cursor } = thread;
  useEffect(() => {
    if (!store || !loaded || source === 'cache') return undefined;
    const timer = setTimeout(() => {
      store
        .saveThread(contactRef, {
          lookup: loaded.lookup,
          numbers: loaded.numbers,
          conversations: loaded.conversations,
          sender,
          messages,
          nextCursor: cursor,
        })
        .catch((error: unknown) => console.warn('[crm-texting] could not save the thread', error));
    }, 150);
    return () => clearTimeout(timer);
  }, [store, contactRef, loaded, sender, messages, cursor, source]);
}
