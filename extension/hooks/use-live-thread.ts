import { useCallback, useEffect, useMemo, useRef } from 'preact/hooks';
import type { Message } from '../lib/relay-types.ts';
import { contactSide, senderSide } from '../lib/thread.ts';
import { type Loaded, visiblePhone } from './use-contact-load.ts';
import type { MessageListener } from './use-live-messages.ts';

export interface LiveThreadOptions {
  loaded: Loaded | null;
  sender: string | null;
  subscribe(listener: MessageListener): () => void;
  onInbound(): void;
  merge(messages: readonly Message[]): void;
  /** A conversation the view does not know yet: load the contact again to learn its id. */
  reload(): void;
}

/** The contact's number as the rep may see it, and a send's result merged into the thread. */
export interface LiveThread {
  /** The number in full, or null when the rep only sees it masked. */
  phone: string | null;
  /** A text the composer sent: into the thread, and a new conversation is learnt. */
  onSent(message: Message): void;
}

/** Merges the live stream's events for this contact into the thread on screen. */
export function useLiveThread(options: LiveThreadOptions): LiveThread {
  const { loaded, sender, subscribe, onInbound, merge, reload } = options;
  const phone = visiblePhone(loaded?.lookup.contact.phone ?? null);
  const maskedPhone = loaded?.lookup.contact.phone ?? null;
  const conversationIds = useMemo(
    () => new Set(loaded?.conversations.map((c) => c.id) ?? []),
    [loaded?.conversations],
  );
  // Read by the live listener, which is registered once and must see the current thread.
  const thread = useRef({ phone, maskedPhone, sender, loaded, conversationIds });
  thread.current = { phone, maskedPhone, sender, loaded, conversationIds };

  const refetchConversations = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () =>
      subscribe((message, event) => {
        const {
          phone: full,
          maskedPhone: masked,
          sender: selected,
          conversationIds: known,
          loaded: view,
        } = thread.current;
        const side = contactSide(message);
        const ours = known.has(message.conversationId) || (full !== null ? side === full : side === masked);
        if (!ours) return;
        if (event === 'message.created' && message.direction === 'inbound') onInbound();
        if (!known.has(message.conversationId)) {
          // A new conversation with this contact (first text, or another sender number): learn its id.
          if (refetchConversations.current) clearTimeout(refetchConversations.current);
          refetchConversations.current = setTimeout(reload, 200);
        }
        // By conversation id: a rep without PII access gets both numbers of a live event masked.
        const selectedId = view?.conversations.find((c) => c.senderNumber === selected)?.id;
        const inSelected =
          selectedId !== undefined
            ? message.conversationId === selectedId
            : full !== null && selected !== null && senderSide(message) === selected;
        if (inSelected) merge([message]);
      }),
    [subscribe, onInbound, merge, reload],
  );

  const onSent = useCallback(
    (message: Message) => {
      merge([message]);
      if (!thread.current.conversationIds.has(message.conversationId)) reload();
    },
    [merge, reload],
  );
  return { phone, onSent };
}
