import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ContactRef } from '../hosts/types.ts';
import type { StreamState } from '../lib/relay/event-stream.ts';
import { type RelayClient, RelayError, type SendMessageInput } from '../lib/relay/relay-client.ts';
import type { ContactLookup, Conversation, Me, Message, SenderNumber } from '../lib/relay-types.ts';
import type { PendingItem } from '../lib/store/local-store.ts';
import type { PanelStore } from '../lib/store/store-client.ts';
import { mergeValues } from '../lib/templates.ts';
import { contactSide, defaultSender, mergeMessages, senderSide } from '../lib/thread.ts';
import type { MessageListener } from '../lib/use-live-messages.ts';
import { Composer } from './Composer.tsx';
import { ContactActions } from './ContactActions.tsx';
import { ContactHeader } from './ContactHeader.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { SenderPicker } from './SenderPicker.tsx';
import { Thread } from './Thread.tsx';

interface ContactViewProps {
  client: RelayClient;
  store: PanelStore | null;
  contactRef: ContactRef;
  contactKey: string;
  me: Me | null;
  live: StreamState | null;
  subscribe(listener: MessageListener): () => void;
  onInbound(): void;
  onStatus(status: 'loading' | 'ready' | 'error'): void;
}

interface Loaded {
  lookup: ContactLookup;
  numbers: SenderNumber[];
  conversations: Conversation[];
}

/** Whether the relay sent the number in full (a rep without PII access gets it masked). */
function visiblePhone(phone: string | null): string | null {
  return phone !== null && /^\+\d{6,15}$/.test(phone) ? phone : null;
}

/** Marks the first paint of a thread for the load-time benchmark (frames have their own timelines). */
function markShown(source: 'cache' | 'network'): void {
  try {
    performance.mark('crm-texting:thread-shown', {
      detail: { source, at: performance.timeOrigin + performance.now() },
    });
  } catch {
    // Marks are diagnostics only.
  }
}

/**
 * Everything for one contact: who, consent, the thread with one sender number, actions and the
 * composer. The saved copy of the thread shows at once; the relay's answer replaces it.
 */
export function ContactView(props: ContactViewProps) {
  const { client, store, contactRef, contactKey, me, subscribe, onInbound, onStatus } = props;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [source, setSource] = useState<'cache' | 'network'>('network');
  const [offline, setOffline] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [sender, setSender] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [threadError, setThreadError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [draft, setDraft] = useState<string | null>(store ? null : '');
  const [pending, setPending] = useState<PendingItem[]>([]);
  const [actionsOpen, setActionsOpen] = useState<'none' | 'escalate' | 'opt-in'>('none');
  const [actionNotice, setActionNotice] = useState<string | null>(null);
  const actionNoticeRef = useRef<HTMLParagraphElement>(null);
  // Focus moves to the confirmation once, when it appears (the button that was focused is gone).
  useEffect(() => {
    if (actionNotice) actionNoticeRef.current?.focus();
  }, [actionNotice]);
  const shown = useRef(false);
  const phone = visiblePhone(loaded?.lookup.contact.phone ?? null);
  const maskedPhone = loaded?.lookup.contact.phone ?? null;
  const conversationIds = useMemo(
    () => new Set(loaded?.conversations.map((c) => c.id) ?? []),
    [loaded?.conversations],
  );
  // Read by the live listener, which is registered once and must see the current thread.
  const thread = useRef({ phone, maskedPhone, sender, loaded, conversationIds });
  thread.current = { phone, maskedPhone, sender, loaded, conversationIds };

  // The saved copy first (instant), then the relay; a relay that cannot be reached leaves the copy up.
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    let fromNetwork = false;
    setLoadError(null);
    setOffline(false);
    onStatus('loading');
    const saved =
      store && reload === 0
        ? store.readThread(contactKey).catch((error: unknown) => {
            console.warn('[crm-texting] could not read the saved thread', error);
            return null;
          })
        : Promise.resolve(null);
    void saved.then((cached) => {
      if (!cached || fromNetwork || signal.aborted) return;
      setLoaded({ lookup: cached.lookup, numbers: cached.numbers, conversations: cached.conversations });
      setSender(cached.sender);
      setMessages(cached.messages);
      setCursor(cached.nextCursor);
      setSource('cache');
      onStatus('ready');
    });
    (async () => {
      const [lookup, numbers] = await Promise.all([
        client.lookupContact(contactRef, signal),
        client.numbers(signal),
      ]);
      const shownPhone = visiblePhone(lookup.contact.phone);
      const conversations = shownPhone
        ? await client.conversations({ phone: shownPhone }, signal)
        : lookup.contact.phone
          ? await client.conversations({ contact: contactRef }, signal)
          : [];
      if (signal.aborted) return;
      fromNetwork = true;
      setLoaded({ lookup, numbers, conversations });
      setSender((current) =>
        current && numbers.some((n) => n.e164 === current) ? current : defaultSender(numbers, conversations),
      );
      setSource('network');
      setOffline(false);
      onStatus('ready');
    })().catch(async (error: unknown) => {
      if (signal.aborted) return;
      // Offline, the relay usually fails before the saved copy has arrived: wait for it first.
      if (error instanceof RelayError && error.status === 0 && ((await saved) || thread.current.loaded)) {
        if (signal.aborted) return;
        // Keep the saved copy on screen; the header says it is offline until the relay answers.
        setOffline(true);
        onStatus('ready');
        return;
      }
      if (signal.aborted) return;
      setLoadError(error);
      onStatus('error');
    });
    return () => controller.abort();
  }, [client, store, contactRef, contactKey, reload, onStatus]);

  useEffect(() => {
    if (!store) return;
    store
      .loadDraft(contactKey)
      .then(setDraft)
      .catch(() => setDraft(''));
  }, [store, contactKey]);

  // History of the selected sender's conversation; live events merge into whatever is loaded.
  useEffect(() => {
    if (source === 'cache' || !loaded) return undefined;
    setThreadError(null);
    const conversation = loaded.conversations.find((c) => c.senderNumber === sender);
    if (!conversation) {
      setMessages([]);
      setCursor(null);
      return undefined;
    }
    const controller = new AbortController();
    client
      .messages(conversation.id, { limit: 50 }, controller.signal)
      .then((page) => {
        // The saved copy may hold messages of another sender's thread; keep only this one's.
        setMessages((current) =>
          mergeMessages(
            current.filter((m) => m.conversationId === conversation.id),
            page.messages,
          ),
        );
        setCursor(page.nextCursor);
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof RelayError && error.status === 0) setOffline(true);
        else setThreadError(error);
      });
    return () => controller.abort();
  }, [client, loaded, sender, source]);

  // First paint of the thread, for the benchmark and for the panel's status.
  useEffect(() => {
    if (loaded && !shown.current) {
      shown.current = true;
      markShown(source);
    }
  }, [loaded, source]);

  // Keep the saved copy current: what the rep saw last is what shows first next time.
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

  // Back online (the live stream reopened): replace the saved copy with the relay's answer.
  // Only on the stream's reopening, so a relay that keeps failing the lookup cannot loop.
  const liveOpen = props.live?.kind === 'open';
  const wasOpen = useRef(liveOpen);
  useEffect(() => {
    if (liveOpen && !wasOpen.current && offline) setReload((n) => n + 1);
    wasOpen.current = liveOpen;
  }, [liveOpen, offline]);

  // Messages waiting in the offline outbox for this contact.
  useEffect(() => {
    if (!store) return undefined;
    const refresh = (): void => {
      store
        .pending(contactKey)
        .then(setPending)
        .catch(() => undefined);
    };
    refresh();
    return store.onOutboxChange(refresh);
  }, [store, contactKey]);

  useEffect(() => {
    if (!store) return undefined;
    return store.onSent((sentKey, message) => {
      if (sentKey !== contactKey) return;
      setMessages((current) => mergeMessages(current, [message]));
    });
  }, [store, contactKey]);

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
          refetchConversations.current = setTimeout(() => setReload((n) => n + 1), 200);
        }
        // By conversation id: a rep without PII access gets both numbers of a live event masked.
        const selectedId = view?.conversations.find((c) => c.senderNumber === selected)?.id;
        const inSelected =
          selectedId !== undefined
            ? message.conversationId === selectedId
            : full !== null && selected !== null && senderSide(message) === selected;
        if (inSelected) setMessages((current) => mergeMessages(current, [message]));
      }),
    [subscribe, onInbound],
  );

  const loadOlder = useCallback(() => {
    const conversation = loaded?.conversations.find((c) => c.senderNumber === sender);
    if (!conversation || !cursor) return;
    setLoadingOlder(true);
    client
      .messages(conversation.id, { limit: 50, cursor })
      .then((page) => {
        setMessages((current) => mergeMessages(current, page.messages));
        setCursor(page.nextCursor);
      })
      .catch(setThreadError)
      .finally(() => setLoadingOlder(false));
  }, [client, loaded, sender, cursor]);

  const updateConsent = useCallback((patch: Partial<ContactLookup['consent']>) => {
    setLoaded((current) =>
      current
        ? { ...current, lookup: { ...current.lookup, consent: { ...current.lookup.consent, ...patch } } }
        : current,
    );
  }, []);

  const onRefused = useCallback(
    (error: RelayError) => {
      // The ledger just told us consent changed; reflect it without waiting for a reload.
      if (error.code === 'OPTED_OUT') updateConsent({ status: 'opted_out', pendingOptIn: null });
    },
    [updateConsent],
  );

  const onSent = useCallback((message: Message) => {
    setMessages((current) => mergeMessages(current, [message]));
    const known = thread.current.conversationIds.has(message.conversationId);
    if (!known) setReload((n) => n + 1);
  }, []);

  // Drafts are saved a moment after the rep stops typing, not on every key.
  const draftTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const saveDraftSoon = useCallback(
    (body: string) => {
      clearTimeout(draftTimer.current);
      draftTimer.current = setTimeout(
        () => void store?.saveDraft(contactKey, body).catch(() => undefined),
        400,
      );
    },
    [store, contactKey],
  );

  const onQueue = useCallback(
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

  if (loadError !== null) {
    return (
      <div class="section" data-state="error">
        <ErrorNotice error={loadError} onRetry={() => setReload((n) => n + 1)} />
      </div>
    );
  }
  if (!loaded || draft === null) {
    return (
      <p class="section muted" data-state="loading" role="status">
        Loading contact…
      </p>
    );
  }

  const { lookup, numbers } = loaded;
  const { consent } = lookup;
  const hasPhone = lookup.contact.phone !== null;
  const blockedReason = !hasPhone
    ? 'This contact has no mobile phone number in the CRM.'
    : consent.status === 'opted_out'
      ? `This contact opted out of texts${consent.source ? ` (${consent.source.replace(/_/g, ' ')})` : ''}. Only they can opt back in, by texting START.`
      : numbers.length === 0
        ? 'Your organisation has no sender numbers yet. Ask an admin to add one.'
        : !store && offline
          ? 'No connection to the relay.'
          : null;
  const permissions = new Set(me?.permissions ?? []);

  return (
    <>
      <ContactHeader lookup={lookup} live={props.live} offline={offline} />
      {consent.review && (
        <p class="section notice warn" data-testid="review-pause">
          Texting is paused: the customer’s last reply may be an opt-out, and a reviewer has to decide. Call
          or email them meanwhile.
        </p>
      )}
      {threadError !== null && (
        <div class="section">
          <ErrorNotice error={threadError} />
        </div>
      )}
      <Thread
        messages={messages}
        pending={pending}
        zone={lookup.contact.localTime?.zone ?? lookup.contact.timeZone}
        source={source}
        hasOlder={cursor !== null}
        loadingOlder={loadingOlder}
        onLoadOlder={loadOlder}
        onDiscard={(key) => void store?.discard(key)}
        onRetry={(key) => void store?.retryNow(key)}
      />
      <ContactActions
        client={client}
        contactRef={contactRef}
        contactName={lookup.contact.name}
        phone={phone}
        canRecordConsent={permissions.has('consent.record')}
        canEscalate={permissions.has('messages.send') && !offline}
        optedIn={consent.status === 'opted_in'}
        optedOut={consent.status === 'opted_out'}
        open={actionsOpen}
        onOpen={setActionsOpen}
        onConsentRecorded={(result) => {
          // Said here, not in the form: the form goes away once the contact is opted in.
          setActionsOpen('none');
          setActionNotice(
            result.pendingConfirmation
              ? 'Opt-in recorded. The customer was texted to confirm with YES; texting opens when they do.'
              : 'Opt-in recorded: the contact is opted in.',
          );
          if (result.pendingConfirmation) {
            updateConsent({ pendingOptIn: { source: 'verbal', requestedAt: new Date().toISOString() } });
          } else setReload((n) => n + 1);
        }}
      />
      {actionNotice && (
        <p
          class="section notice ok"
          role="status"
          tabIndex={-1}
          ref={actionNoticeRef}
          data-testid="action-notice"
        >
          {actionNotice}
        </p>
      )}
      <div class="section">
        <SenderPicker numbers={numbers} value={sender} onChange={setSender} />
      </div>
      {hasPhone && (
        <Composer
          key={contactKey}
          client={client}
          contactRef={contactRef}
          to={phone}
          from={sender}
          blockedReason={blockedReason}
          templates={me?.extension.templates ?? []}
          mergeValues={mergeValues(lookup.contact, me)}
          initialDraft={draft}
          onDraftChange={saveDraftSoon}
          queueBehind={pending.some((p) => p.state !== 'failed')}
          onSent={onSent}
          onRefused={onRefused}
          onQueue={onQueue}
          onRecordConsent={
            permissions.has('consent.record') && phone !== null ? () => setActionsOpen('opt-in') : undefined
          }
        />
      )}
      {!hasPhone && <p class="section notice warn">{blockedReason}</p>}
    </>
  );
}
