import { useApiKeyForm } from '../hooks/use-api-key-form.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

/** The advanced path: an API key instead of signing in, with a connection test against `GET /v1/me`. */
export function ApiKeyForm({
  relayUrl,
  initialKey,
  onRelaySaved,
}: {
  relayUrl: string | null;
  initialKey: string;
  onRelaySaved: (url: string) => void;
}) {
  const { apiKey, setApiKey, busy, outcome, save, test } = useApiKeyForm(relayUrl, initialKey, onRelaySaved);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
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
          When you are signed in, the sign-in is used instead.
        </p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || relayUrl === null}>
          Save
        </button>
        <button
          type="button"
          disabled={busy || relayUrl === null || !apiKey.trim()}
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
