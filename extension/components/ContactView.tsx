import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ContactRef } from '../hosts/types.ts';
import type { StreamState } from '../lib/event-stream.ts';
import type { RelayClient, RelayError } from '../lib/relay-client.ts';
import type { ContactLookup, Conversation, Message, SenderNumber } from '../lib/relay-types.ts';
import { belongsToThread, contactSide, defaultSender, mergeMessages } from '../lib/thread.ts';
import type { MessageListener } from '../lib/use-live-messages.ts';
import { Composer } from './Composer.tsx';
import { ContactHeader } from './ContactHeader.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { SenderPicker } from './SenderPicker.tsx';
import { Thread } from './Thread.tsx';

interface ContactViewProps {
  client: RelayClient;
  contactRef: ContactRef;
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

/** Everything for one contact: who, consent, the thread with one sender number, and the composer. */
export function ContactView({ client, contactRef, live, subscribe, onInbound, onStatus }: ContactViewProps) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [sender, setSender] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [threadError, setThreadError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const phone = loaded?.lookup.contact.phone ?? null;
  // Read by the live listener, which is registered once and must see the current thread.
  const thread = useRef({ phone, sender });
  thread.current = { phone, sender };

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    setLoaded(null);
    setLoadError(null);
    onStatus('loading');
    (async () => {
      const [lookup, numbers] = await Promise.all([
        client.lookupContact(contactRef, signal),
        client.numbers(signal),
      ]);
      const conversations = lookup.contact.phone
        ? await client.conversations(lookup.contact.phone, signal)
        : [];
      if (signal.aborted) return;
      setLoaded({ lookup, numbers, conversations });
      setSender(defaultSender(numbers, conversations));
      onStatus('ready');
    })().catch((error: unknown) => {
      if (signal.aborted) return;
      setLoadError(error);
      onStatus('error');
    });
    return () => controller.abort();
  }, [client, contactRef, reload, onStatus]);

  // History of the selected sender's conversation; live events merge into whatever is loaded.
  useEffect(() => {
    setMessages([]);
    setCursor(null);
    setThreadError(null);
    const conversation = loaded?.conversations.find((c) => c.senderNumber === sender);
    if (!conversation) return undefined;
    const controller = new AbortController();
    client
      .messages(conversation.id, { limit: 50 }, controller.signal)
      .then((page) => {
        setMessages((current) => mergeMessages(current, page.messages));
        setCursor(page.nextCursor);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setThreadError(error);
      });
    return () => controller.abort();
  }, [client, loaded, sender]);

  useEffect(
    () =>
      subscribe((message, event) => {
        const { phone: contactPhone, sender: senderNumber } = thread.current;
        if (!contactPhone || contactSide(message) !== contactPhone) return;
        if (event === 'message.created' && message.direction === 'inbound') onInbound();
        if (senderNumber && belongsToThread(message, contactPhone, senderNumber)) {
          setMessages((current) => mergeMessages(current, [message]));
        }
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

  const onRefused = useCallback((error: RelayError) => {
    // The ledger just told us consent changed; reflect it without waiting for a reload.
    if (error.code === 'OPTED_OUT') {
      setLoaded((current) =>
        current
          ? {
              ...current,
              lookup: { ...current.lookup, consent: { ...current.lookup.consent, status: 'opted_out' } },
            }
          : current,
      );
    }
  }, []);

  if (loadError !== null) {
    return (
      <div class="section" data-state="error">
        <ErrorNotice error={loadError} onRetry={() => setReload((n) => n + 1)} />
      </div>
    );
  }
  if (!loaded) {
    return (
      <p class="section muted" data-state="loading" role="status">
        Loading contact…
      </p>
    );
  }

  const { lookup, numbers } = loaded;
  const blockedReason = !phone
    ? 'This contact has no mobile phone number in the CRM.'
    : lookup.consent.status === 'opted_out'
      ? 'This contact opted out of texts. Only they can opt back in (by texting START).'
      : numbers.length === 0
        ? 'Your organisation has no sender numbers yet. Ask an admin to add one.'
        : null;

  return (
    <>
      <ContactHeader lookup={lookup} live={live} />
      {threadError !== null && (
        <div class="section">
          <ErrorNotice error={threadError} />
        </div>
      )}
      <Thread
        messages={messages}
        hasOlder={cursor !== null}
        loadingOlder={loadingOlder}
        onLoadOlder={loadOlder}
      />
      <div class="section">
        <SenderPicker numbers={numbers} value={sender} onChange={setSender} />
      </div>
      {phone && (
        <Composer
          client={client}
          contactRef={contactRef}
          to={phone}
          from={sender}
          blockedReason={blockedReason}
          onSent={(message) => setMessages((current) => mergeMessages(current, [message]))}
          onRefused={onRefused}
        />
      )}
      {!phone && <p class="section notice warn">{blockedReason}</p>}
    </>
  );
}
