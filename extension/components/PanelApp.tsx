import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { contactKeyOf, decodeContactRef } from '../lib/contact-ref.ts';
import { refreshedAccessToken, sendToBackground } from '../lib/messaging.ts';
import { openPanelStore, type PanelStore } from '../lib/panel-store.ts';
import type { PanelStatus } from '../lib/protocol.ts';
import { RelayClient } from '../lib/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import { credentialOf, loadSettings, type Settings, watchSettings } from '../lib/settings.ts';
import { useLiveMessages } from '../lib/use-live-messages.ts';
import { ContactNotDetected } from './ContactNotDetected.tsx';
import { ContactView } from './ContactView.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { NotConfigured } from './NotConfigured.tsx';

/** The panel page: settings gate, contact from the URL hash, one live connection, the contact view. */
export function PanelApp() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [settingsError, setSettingsError] = useState<unknown>(null);
  const [hash, setHash] = useState(() => location.hash);
  const [contactStatus, setContactStatus] = useState<PanelStatus>('loading');
  const [inboundCount, setInboundCount] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const refresh = (): void => {
      loadSettings().then(setSettings, setSettingsError);
    };
    refresh();
    // Saving in the options page takes effect here without reloading the CRM page.
    watchSettings(controller.signal, refresh);
    window.addEventListener('hashchange', () => setHash(location.hash), { signal: controller.signal });
    return () => controller.abort();
  }, []);

  // The content script changes only the hash when the rep moves to another record.
  const contactRef = useMemo(() => decodeContactRef(hash), [hash]);
  const refKey = contactRef ? contactKeyOf(contactRef) : null;
  useEffect(() => setInboundCount(0), [refKey]);

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
  // The background's store of saved threads, drafts and the outbox, per signed-in identity.
  const store = useMemo<PanelStore | null>(() => (client ? openPanelStore() : null), [client]);
  useEffect(() => () => store?.close(), [store]);

  // Who the rep is (templates, permissions, locked settings); the panel works without it.
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

  const status: PanelStatus = !settings
    ? 'loading'
    : !contactRef
      ? 'no-contact'
      : !credential
        ? 'unconfigured'
        : contactStatus;

  useEffect(() => {
    // best effort: only for the collapsed toggle's badge; losing it (e.g. the tab is closing) costs nothing.
    sendToBackground({ type: 'panel-state', status, inboundCount }).catch(() => undefined);
  }, [status, inboundCount]);

  const onInbound = useCallback(() => setInboundCount((n) => n + 1), []);

  let content = null;
  if (settingsError !== null) content = <ErrorNotice error={settingsError} />;
  else if (!settings) content = <p class="section muted">Loading…</p>;
  // Nothing can be texted from an unreadable page, so say that first; setup comes up on the next record.
  else if (!contactRef) content = <ContactNotDetected />;
  else if (!client) content = <NotConfigured signedOut={settings.signedOut} />;
  else {
    content = (
      <ContactView
        key={refKey}
        client={client}
        store={store}
        me={me}
        contactKey={refKey ?? ''}
        contactRef={contactRef}
        live={live.state}
        subscribe={live.subscribe}
        onInbound={onInbound}
        onStatus={setContactStatus}
      />
    );
  }
  return (
    <main class="panel" data-status={status}>
      {content}
    </main>
  );
}
