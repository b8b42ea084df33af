import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ContactRef } from '../hosts/types.ts';
import { type RelayClient, RelayError } from '../lib/relay/relay-client.ts';
import type { ContactLookup, Conversation, Message, SenderNumber } from '../lib/relay-types.ts';
import type { PanelStore } from '../lib/store/store-client.ts';
import { defaultSender } from '../lib/thread.ts';

/** The contact, the org's sender numbers and the contact's conversations, as the relay (or the saved copy) gave them. */
export interface Loaded {
  lookup: ContactLookup;
  numbers: SenderNumber[];
  conversations: Conversation[];
}

/** One contact's data, where it came from, and the sender number chosen for the thread. */
export interface ContactLoad {
  loaded: Loaded | null;
  source: 'cache' | 'network';
  /** The relay could not be reached: the saved copy stays on screen. */
  offline: boolean;
  setOffline(offline: boolean): void;
  loadError: unknown;
  sender: string | null;
  setSender(sender: string | null): void;
  /** Asks the relay again (Retry, a new conversation, consent recorded). */
  reload(): void;
  /** Reflects a consent change the relay reported, without a reload. */
  updateConsent(patch: Partial<ContactLookup['consent']>): void;
  /** The relay refused a send: an opt-out it reports shows at once. */
  refused(error: RelayError): void;
}

export interface ContactLoadOptions {
  client: RelayClient;
  store: PanelStore | null;
  contactRef: ContactRef;
  contactKey: string;
  /** Whether the live stream is open: its reopening after an offline spell loads the contact again. */
  liveOpen: boolean;
  onStatus(status: 'loading' | 'ready' | 'error'): void;
  /** The saved copy's thread, shown until the relay answers. */
  onSavedThread(messages: Message[], cursor: string | null): void;
}

/** Whether the relay sent the number in full (a rep without PII access gets it masked). */
export function visiblePhone(phone: string | null): string | null {
  return phone !== null && /^\+\d{6,15}$/.test(phone) ? phone : null;
}

/** Asks the relay for the contact, the sender numbers and the contact's conversations. */
async function fetchContact(
  client: RelayClient,
  contactRef: ContactRef,
  signal: AbortSignal,
): Promise<Loaded> {
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
  return { lookup, numbers, conversations };
}

/** The saved copy of the contact's view, or null when there is none or it cannot be read. */
function readSavedThread(store: PanelStore, contactKey: string) {
  return store.readThread(contactKey).catch((error: unknown) => {
    console.warn('[crm-texting] could not read the saved thread', error);
    return null;
  });
}

/**
 * Back online (the live stream reopened): replace the saved copy with the relay's answer. Only on the
 * stream's reopening, so a relay that keeps failing the lookup cannot loop.
 */
function useReloadOnReconnect(liveOpen: boolean, offline: boolean, reload: () => void): void {
  const wasOpen = useRef(liveOpen);
  useEffect(() => {
    if (liveOpen && !wasOpen.current && offline) reload();
    wasOpen.current = liveOpen;
  }, [liveOpen, offline, reload]);
}

/** Consent changes the relay reported, applied to the loaded contact without a reload. */
function useConsentPatch(setLoaded: (update: (current: Loaded | null) => Loaded | null) => void) {
  const updateConsent = useCallback(
    (patch: Partial<ContactLookup['consent']>) => {
      setLoaded((current) =>
        current
          ? { ...current, lookup: { ...current.lookup, consent: { ...current.lookup.consent, ...patch } } }
          : current,
      );
    },
    [setLoaded],
  );
  const refused = useCallback(
    (error: RelayError) => {
      // The ledger just told us consent changed; reflect it without waiting for a reload.
      if (error.code === 'OPTED_OUT') updateConsent({ status: 'opted_out', pendingOptIn: null });
    },
    [updateConsent],
  );
  return { updateConsent, refused };
}

/** The saved copy first (instant), then the relay; a relay that cannot be reached leaves the copy up. */
export function useContactLoad(options: ContactLoadOptions): ContactLoad {
  const { client, store, contactRef, contactKey, liveOpen, onStatus, onSavedThread } = options;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [source, setSource] = useState<'cache' | 'network'>('network');
  const [offline, setOffline] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  const [sender, setSender] = useState<string | null>(null);
  // Read when the relay fails: whether anything is on screen to keep.
  const shown = useRef(loaded);
  shown.current = loaded;

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    let fromNetwork = false;
    setLoadError(null);
    setOffline(false);
    onStatus('loading');
    // The saved copy only on the first load: a reload asks the relay.
    const saved = store && reloads === 0 ? readSavedThread(store, contactKey) : Promise.resolve(null);
    void saved.then((cached) => {
      if (!cached || fromNetwork || signal.aborted) return;
      setLoaded({ lookup: cached.lookup, numbers: cached.numbers, conversations: cached.conversations });
      setSender(cached.sender);
      onSavedThread(cached.messages, cached.nextCursor);
      setSource('cache');
      onStatus('ready');
    });
    fetchContact(client, contactRef, signal)
      .then((next) => {
        if (signal.aborted) return;
        fromNetwork = true;
        setLoaded(next);
        setSender((current) =>
          current && next.numbers.some((n) => n.e164 === current)
            ? current
            : defaultSender(next.numbers, next.conversations),
        );
        setSource('network');
        setOffline(false);
        onStatus('ready');
      })
      .catch(async (error: unknown) => {
        if (signal.aborted) return;
        // Offline, the relay usually fails before the saved copy has arrived: wait for it first.
        if (error instanceof RelayError && error.status === 0 && ((await saved) || shown.current)) {
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
  }, [client, store, contactRef, contactKey, reloads, onStatus, onSavedThread]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useReloadOnReconnect(liveOpen, offline, reload);

  const { updateConsent, refused } = useConsentPatch(setLoaded);

  return {
    loaded,
    source,
    offline,
    setOffline,
    loadError,
    sender,
    setSender,
    reload,
    updateConsent,
    refused,
  };
}
