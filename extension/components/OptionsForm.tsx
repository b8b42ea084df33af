import { useEffect, useState } from 'preact/hooks';
import { ensureRelayPermission } from '../lib/host-permission.ts';
import { RelayClient } from '../lib/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import { DEFAULT_RELAY_URL, loadSettings, normalizeRelayUrl, saveSettings } from '../lib/settings.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

type Outcome = { kind: 'saved' } | { kind: 'connected'; me: Me } | { kind: 'error'; error: unknown } | null;

/** Relay address and API key, with a connection test against `GET /v1/me`. */
export function OptionsForm() {
  const [relayUrl, setRelayUrl] = useState(DEFAULT_RELAY_URL);
  const [apiKey, setApiKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

  useEffect(() => {
    loadSettings().then(
      (s) => {
        setRelayUrl(s.relayUrl);
        setApiKey(s.apiKey ?? '');
      },
      (error: unknown) => setOutcome({ kind: 'error', error }),
    );
  }, []);

  const normalized = normalizeRelayUrl(relayUrl);

  const save = async (): Promise<void> => {
    if (!normalized) return;
    setBusy(true);
    try {
      if (!(await ensureRelayPermission(normalized))) {
        throw new Error(`The extension needs permission to reach ${new URL(normalized).origin}.`);
      }
      await saveSettings({ relayUrl: normalized, apiKey: apiKey.trim() || null });
      setRelayUrl(normalized);
      setOutcome({ kind: 'saved' });
    } catch (error) {
      setOutcome({ kind: 'error', error });
    } finally {
      setBusy(false);
    }
  };

  const test = async (): Promise<void> => {
    if (!normalized || !apiKey.trim()) return;
    setBusy(true);
    try {
      await ensureRelayPermission(normalized);
      const me = await new RelayClient({ baseUrl: normalized, apiKey: apiKey.trim() }).me();
      setOutcome({ kind: 'connected', me });
    } catch (error) {
      setOutcome({ kind: 'error', error });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="options"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h1>CRM Texting settings</h1>
      <div class="field">
        <label for="relay-url">Relay URL</label>
        <input
          id="relay-url"
          type="url"
          value={relayUrl}
          required
          aria-invalid={normalized === null}
          aria-describedby="relay-url-hint"
          onInput={(e) => setRelayUrl(e.currentTarget.value)}
        />
        <p id="relay-url-hint" class="hint">
          {normalized === null ? 'Enter an http:// or https:// address.' : `Default: ${DEFAULT_RELAY_URL}`}
        </p>
      </div>
      <div class="field">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={apiKey}
          aria-describedby="api-key-hint"
          onInput={(e) => setApiKey(e.currentTarget.value)}
        />
        <p id="api-key-hint" class="hint">
          Kept in session storage only: it lasts until you close the browser and is never written to disk.
        </p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || normalized === null}>
          Save
        </button>
        <button
          type="button"
          disabled={busy || normalized === null || !apiKey.trim()}
          onClick={() => void test()}
        >
          Test connection
        </button>
      </div>
      <div aria-live="polite">
        {outcome?.kind === 'saved' && <p class="notice ok">Saved.</p>}
        {outcome?.kind === 'connected' && (
          <p class="notice ok" data-testid="connection-ok">
            Connected to <strong>{outcome.me.orgName}</strong> as <strong>{outcome.me.role}</strong>.
          </p>
        )}
        {outcome?.kind === 'error' && <ErrorNotice error={outcome.error} />}
      </div>
    </form>
  );
}
