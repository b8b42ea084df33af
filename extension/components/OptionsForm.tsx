import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AuthApi, SignInFlow, type SignInState } from '../lib/auth.ts';
import { ensureRelayPermission } from '../lib/host-permission.ts';
import { forgetLocalData, waitingTexts } from '../lib/local-store.ts';
import { refreshedAccessToken } from '../lib/messaging.ts';
import { RelayClient } from '../lib/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import {
  browserSessionStore,
  DEFAULT_RELAY_URL,
  loadSettings,
  normalizeRelayUrl,
  type Settings,
  saveRelayUrl,
  saveSettings,
  watchSettings,
} from '../lib/settings.ts';
import { ErrorNotice } from './ErrorNotice.tsx';
import { NotificationPrefs } from './NotificationPrefs.tsx';

type Outcome = { kind: 'saved' } | { kind: 'connected'; me: Me } | { kind: 'error'; error: unknown } | null;

/** Relay address, sign-in (password, then second factor), and the API key as an advanced option. */
export function OptionsForm() {
  const [relayUrl, setRelayUrl] = useState(DEFAULT_RELAY_URL);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    let first = true;
    const load = (): void => {
      loadSettings().then((s) => {
        setSettings(s);
        if (first) setRelayUrl(s.relayUrl);
        first = false;
      }, setLoadError);
    };
    load();
    watchSettings(controller.signal, load);
    return () => controller.abort();
  }, []);

  const normalized = normalizeRelayUrl(relayUrl);

  return (
    <div class="options">
      <h1>CRM Texting settings</h1>
      {loadError !== null && <ErrorNotice error={loadError} />}
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
      {settings?.session && settings.session.relayUrl === normalized ? (
        <SignedIn settings={settings} />
      ) : (
        <SignInForm key={normalized ?? ''} relayUrl={normalized} signedOut={settings?.signedOut ?? false} />
      )}
      {settings && <NotificationPrefs settings={settings} />}
      <details class="advanced" open={Boolean(settings?.apiKey) && !settings?.session}>
        <summary>Use an API key instead</summary>
        <ApiKeyForm relayUrl={normalized} initialKey={settings?.apiKey ?? ''} onRelaySaved={setRelayUrl} />
      </details>
    </div>
  );
}

/** Password, then (when the relay asks) the authenticator or recovery code. */
function SignInForm({ relayUrl, signedOut }: { relayUrl: string | null; signedOut: boolean }) {
  const [state, setState] = useState<SignInState>({ step: 'credentials', busy: false, error: null });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const codeInput = useRef<HTMLInputElement>(null);
  // The second step replaces the form, so focus moves to its input for keyboard users.
  useEffect(() => {
    if (state.step === 'second-factor') codeInput.current?.focus();
  }, [state.step]);
  const flow = useMemo(
    () => (relayUrl ? new SignInFlow(new AuthApi(relayUrl), browserSessionStore, relayUrl, setState) : null),
    [relayUrl],
  );

  const submitPassword = async (): Promise<void> => {
    if (!flow || !relayUrl) return;
    try {
      if (!(await ensureRelayPermission(relayUrl))) {
        setState({
          step: 'credentials',
          busy: false,
          error: `The extension needs permission to reach ${new URL(relayUrl).origin}.`,
        });
        return;
      }
      await saveRelayUrl(relayUrl);
    } catch (error) {
      setState({
        step: 'credentials',
        busy: false,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    await flow.submitPassword(email, password);
    setPassword('');
  };

  const error =
    state.step !== 'signed-in' && state.error ? (
      <p class="notice error" role="alert" id="sign-in-error">
        {state.error}
      </p>
    ) : null;

  if (state.step === 'second-factor') {
    return (
      <form
        class="sign-in"
        aria-labelledby="second-factor-title"
        onSubmit={(e) => {
          e.preventDefault();
          void flow?.submitCode(code);
        }}
      >
        <h2 id="second-factor-title">Two-step verification</h2>
        <p>Signing in as {state.email}.</p>
        <div class="field">
          <label for="mfa-code">Authentication code or recovery code</label>
          <input
            id="mfa-code"
            autocomplete="one-time-code"
            spellcheck={false}
            ref={codeInput}
            value={code}
            aria-describedby="mfa-code-hint"
            aria-invalid={Boolean(state.error)}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <p id="mfa-code-hint" class="hint">
            The 6-digit code from your authenticator app, or one of your recovery codes.
          </p>
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={state.busy}>
            Verify
          </button>
          <button type="button" disabled={state.busy} onClick={() => flow?.restart()}>
            Start over
          </button>
        </div>
        <div aria-live="polite">{error}</div>
      </form>
    );
  }

  return (
    <form
      class="sign-in"
      aria-labelledby="sign-in-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submitPassword();
      }}
    >
      <h2 id="sign-in-title">Sign in</h2>
      {signedOut && (
        <p class="notice" data-testid="signed-out">
          You were signed out. Sign in again.
        </p>
      )}
      <div class="field">
        <label for="email">Email</label>
        <input
          id="email"
          type="email"
          autocomplete="username"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </div>
      <div class="actions">
        <button
          type="submit"
          class="primary"
          disabled={relayUrl === null || (state.step === 'credentials' && state.busy)}
        >
          Sign in
        </button>
      </div>
      <div aria-live="polite">{error}</div>
    </form>
  );
}

/** Who is signed in (from `GET /v1/me`) and the way out. */
function SignedIn({ settings }: { settings: Settings }) {
  const session = settings.session;
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const relayUrl = session?.relayUrl;
  const email = session?.email;

  useEffect(() => {
    if (!relayUrl) return undefined;
    const controller = new AbortController();
    browserSessionStore
      .get()
      .then((current) => {
        if (!current) return null;
        return new RelayClient({
          baseUrl: relayUrl,
          apiKey: current.accessToken,
          onUnauthorized: refreshedAccessToken,
        }).me(controller.signal);
      })
      .then((result) => result && setMe(result))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [relayUrl, email]);

  const [waiting, setWaiting] = useState(0);
  const signOut = async (confirmed: boolean): Promise<void> => {
    setBusy(true);
    const current = await browserSessionStore.get().catch(() => null);
    const scope = current ? { relayUrl: current.relayUrl, session: current, apiKey: null } : null;
    // Texts still in the offline outbox go out only while this rep is signed in: ask first.
    const queued = scope && !confirmed ? await waitingTexts(scope).catch(() => 0) : 0;
    if (queued > 0) {
      setWaiting(queued);
      setBusy(false);
      return;
    }
    // Best effort on the relay; locally the session ends whatever it answers.
    if (current) await new AuthApi(current.relayUrl).logout(current.accessToken).catch(() => undefined);
    // The saved threads hold customer data: they go with the session.
    if (scope) await forgetLocalData(scope).catch(() => undefined);
    await browserSessionStore.clear('signed-out');
    setBusy(false);
  };

  return (
    <section class="signed-in" aria-labelledby="signed-in-title">
      <h2 id="signed-in-title">Signed in</h2>
      <p class="notice ok" data-testid="signed-in">
        Signed in as <strong>{email}</strong>
        {me && (
          <>
            {' '}
            to <strong>{me.orgName}</strong> ({me.role})
          </>
        )}
        .
      </p>
      {error !== null && <ErrorNotice error={error} />}
      {waiting > 0 && (
        <p class="notice warn" role="alert" data-testid="outbox-waiting">
          {waiting} text{waiting === 1 ? ' is' : 's are'} still waiting for a connection to the relay. Signed
          out,
          {waiting === 1 ? ' it waits' : ' they wait'} until you sign in again.
        </p>
      )}
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void signOut(waiting > 0)}>
          {waiting > 0 ? 'Sign out anyway' : 'Sign out'}
        </button>
      </div>
    </section>
  );
}

/** The advanced path: an API key instead of signing in, with a connection test against `GET /v1/me`. */
function ApiKeyForm({
  relayUrl,
  initialKey,
  onRelaySaved,
}: {
  relayUrl: string | null;
  initialKey: string;
  onRelaySaved: (url: string) => void;
}) {
  const [apiKey, setApiKey] = useState(initialKey);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  useEffect(() => setApiKey(initialKey), [initialKey]);

  const save = async (): Promise<void> => {
    if (!relayUrl) return;
    setBusy(true);
    try {
      if (!(await ensureRelayPermission(relayUrl))) {
        throw new Error(`The extension needs permission to reach ${new URL(relayUrl).origin}.`);
      }
      await saveSettings({ relayUrl, apiKey: apiKey.trim() || null });
      onRelaySaved(relayUrl);
      setOutcome({ kind: 'saved' });
    } catch (error) {
      setOutcome({ kind: 'error', error });
    } finally {
      setBusy(false);
    }
  };

  const test = async (): Promise<void> => {
    if (!relayUrl || !apiKey.trim()) return;
    setBusy(true);
    try {
      await ensureRelayPermission(relayUrl);
      const me = await new RelayClient({ baseUrl: relayUrl, apiKey: apiKey.trim() }).me();
      setOutcome({ kind: 'connected', me });
    } catch (error) {
      setOutcome({ kind: 'error', error });
    } finally {
      setBusy(false);
    }
  };

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
