import { useOptionsSettings } from '../hooks/use-options-settings.ts';
import { normalizeRelayUrl } from '../lib/settings.ts';
import { ApiKeyForm } from './ApiKeyForm.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { NotificationPrefs } from './NotificationPrefs.tsx';
import { RelayUrlField } from './RelayUrlField.tsx';
import { SignedIn } from './SignedIn.tsx';
import { SignInChoice } from './SignInChoice.tsx';

/** Relay address, sign-in (password then second factor, or SSO), and the API key as an advanced option. */
export function OptionsForm() {
  const { settings, loadError, relayUrl, editRelayUrl, setRelayUrl } = useOptionsSettings();
  const locked = settings?.relayUrlLocked ?? false;
  const normalized = normalizeRelayUrl(relayUrl);

  return (
    <div class="options">
      <h1>CRM Texting settings</h1>
      {loadError !== null && <ErrorNotice error={loadError} />}
      <RelayUrlField value={relayUrl} normalized={normalized} locked={locked} onInput={editRelayUrl} />
      {settings?.session && settings.session.relayUrl === normalized ? (
        <SignedIn settings={settings} />
      ) : (
        <SignInChoice key={normalized ?? ''} relayUrl={normalized} signedOut={settings?.signedOut ?? false} />
      )}
      {settings && <NotificationPrefs settings={settings} />}
      <details class="advanced" open={Boolean(settings?.apiKey) && !settings?.session}>
        <summary>Use an API key instead</summary>
        <ApiKeyForm relayUrl={normalized} initialKey={settings?.apiKey ?? ''} onRelaySaved={setRelayUrl} />
      </details>
    </div>
  );
}
