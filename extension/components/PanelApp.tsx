import { useMemo, useState } from 'preact/hooks';
import { usePanelBadge } from '../hooks/use-panel-badge.ts';
import { usePanelConnection } from '../hooks/use-panel-connection.ts';
import { usePanelSettings } from '../hooks/use-panel-settings.ts';
import { contactKeyOf, decodeContactRef } from '../lib/contact-ref.ts';
import type { PanelStatus } from '../lib/messages/extension-messages.ts';
import { ContactNotDetected } from './ContactNotDetected.tsx';
import { ContactView } from './ContactView.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { NotConfigured } from './NotConfigured.tsx';

/** The panel page: settings gate, contact from the URL hash, one live connection, the contact view. */
export function PanelApp() {
  const { settings, settingsError, hash } = usePanelSettings();
  const [contactStatus, setContactStatus] = useState<PanelStatus>('loading');

  // The content script changes only the hash when the rep moves to another record.
  const contactRef = useMemo(() => decodeContactRef(hash), [hash]);
  const refKey = contactRef ? contactKeyOf(contactRef) : null;
  const { credential, client, live, me, store } = usePanelConnection(settings);

  const status: PanelStatus = !settings
    ? 'loading'
    : !contactRef
      ? 'no-contact'
      : !credential
        ? 'unconfigured'
        : contactStatus;
  const { onInbound } = usePanelBadge(status, refKey);

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
        subscribePayments={live.subscribePayments}
        subscribeTyping={live.subscribeTyping}
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
