import { useEffect, useMemo, useState } from 'preact/hooks';
import { refreshedAccessToken } from '../lib/messages/background-requests.ts';
import { RelayClient } from '../lib/relay/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import { credentialOf, type PanelSettings } from '../lib/settings.ts';
import { openPanelStore, type PanelStore } from '../lib/store/store-client.ts';
import { useLiveMessages } from './use-live-messages.ts';

/** The panel's link to the relay: the client, its live stream, the rep, and the local store. */
export interface PanelConnection {
  credential: string | null;
  client: RelayClient | null;
  live: ReturnType<typeof useLiveMessages>;
  /** Who the rep is (templates, permissions, locked settings); the panel works without it. */
  me: Me | null;
  /** The background's store of saved threads, drafts and the outbox, per signed-in identity. */
  store: PanelStore | null;
}

export function usePanelConnection(settings: PanelSettings | null): PanelConnection {
  const credential = settings ? credentialOf(settings) : null;
  const signedIn = Boolean(settings?.session);
  // Keyed on the relay and on whether this is a session, not on the token itself: a refreshed access
  // token must not rebuild the client (and reconnect the live stream); the client picks it up on 401.
  const client = useMemo(
    () =>
      settings && credential
        ? new RelayClient({
            baseUrl: settings.relayUrl,
            apiKey: credential,
            ...(signedIn ? { onUnauthorized: refreshedAccessToken } : {}),
          })
        : null,
    [settings?.relayUrl, signedIn, signedIn ? settings?.session?.email : credential],
  );
  const live = useLiveMessages(client);
  const [me, setMe] = useState<Me | null>(null);
  const store = useMemo<PanelStore | null>(() => (client ? openPanelStore() : null), [client]);
  useEffect(() => () => store?.close(), [store]);

  useEffect(() => {
    setMe(null);
    if (!client) return undefined;
    const controller = new AbortController();
    client
      .me(controller.signal)
      .then(setMe)
      .catch((error: unknown) => {
        if (!controller.signal.aborted) console.warn('[crm-texting] could not read /v1/me', error);
      });
    return () => controller.abort();
  }, [client]);

  // The outbox goes out when the relay is reachable again: the live stream reopening is the signal.
  useEffect(() => {
    if (store && live.state?.kind === 'open') store.flushSoon();
  }, [store, live.state?.kind]);

  return { credential, client, live, me, store };
}
