import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { AuthApi } from '../lib/auth/auth-api.ts';
import { ssoCancelMessage } from '../lib/auth/error-messages.ts';
import { SignInFlow, type SignInState } from '../lib/auth/sign-in-flow.ts';
import { parseSsoTarget, SSO_LAST_ORG_KEY } from '../lib/auth/sso-login.ts';
import { isActive, parseSsoState, SSO_STATE_KEY, type SsoState } from '../lib/auth/sso-state.ts';
import { ensureRelayPermission } from '../lib/host-permission.ts';
import { refreshedAccessToken } from '../lib/messages/background-requests.ts';
import {
  type ProtocolMessage,
  parseSsoStartResponse,
  SSO_ORG_ID,
} from '../lib/messages/extension-messages.ts';
import { RelayClient } from '../lib/relay/relay-client.ts';
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
import { SecondFactorForm } from './SecondFactorForm.tsx';
import { SsoLinkForm } from './SsoLinkForm.tsx';
import { SsoSecondFactor } from './SsoSecondFactor.tsx';

type Outcome = { kind: 'saved' } | { kind: 'connected'; me: Me } | { kind: 'error'; error: unknown } | null;

/** Relay address, sign-in (password then second factor, or SSO), and the API key as an advanced option. */
export function OptionsForm() {
  const [relayUrl, setRelayUrl] = useState(DEFAULT_RELAY_URL);
  const edited = useRef(false);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    let first = true;
    const load = (): void => {
      loadSettings().then((s) => {
        setSettings(s);
        // A policy's URL always shows; the stored one only on the first load, and never over what the
        // rep already typed (the first read can take a moment on a fresh profile).
        if (s.relayUrlLocked || (first && !edited.current)) setRelayUrl(s.relayUrl);
        first = false;
      }, setLoadError);
    };
    load();
    watchSettings(controller.signal, load);
    return () => controller.abort();
  }, []);

  const locked = settings?.relayUrlLocked ?? false;
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
          readOnly={locked}
          aria-invalid={normalized === null}
          aria-describedby="relay-url-hint"
          onInput={(e) => {
            edited.current = true;
            setRelayUrl(e.currentTarget.value);
          }}
        />
        <p id="relay-url-hint" class="hint" data-testid={locked ? 'relay-url-locked' : undefined}>
          {locked ? (
            <>
              <span aria-hidden="true">🔒</span> Set by your organisation’s IT policy.
            </>
          ) : normalized === null ? (
            'Enter an http:// or https:// address.'
          ) : (
            `Default: ${DEFAULT_RELAY_URL}`
          )}
        </p>
      </div>
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

/** `focus`: the rep (or the relay's answer) switched to SSO just now, so its field takes the focus. */
type SignInMethod = { kind: 'password' } | { kind: 'sso'; explanation: string | null; focus: boolean };

/** The last organisation this relay was signed in to with SSO, when remembered. */
async function rememberedSsoOrg(relayUrl: string): Promise<string | null> {
  const stored = (await browser.storage.local.get(SSO_LAST_ORG_KEY))[SSO_LAST_ORG_KEY];
  if (typeof stored !== 'object' || stored === null) return null;
  const { relayUrl: url, orgId } = stored as Record<string, unknown>;
  return url === relayUrl && typeof orgId === 'string' && SSO_ORG_ID.test(orgId) ? orgId : null;
}

/**
 * Password or SSO. Opens on SSO when this relay was last signed in to that way or an SSO sign-in is
 * under way, and switches to it (saying why) when the relay refuses a password for an SSO-only org.
 */
function SignInChoice({ relayUrl, signedOut }: { relayUrl: string | null; signedOut: boolean }) {
  const [method, setMethod] = useState<SignInMethod>({ kind: 'password' });
  const [rememberedOrg, setRememberedOrg] = useState<string | null>(null);
  const [ready, setReady] = useState(relayUrl === null);
  useEffect(() => {
    if (relayUrl === null) return undefined;
    let live = true;
    Promise.all([
      rememberedSsoOrg(relayUrl),
      browser.storage.session.get(SSO_STATE_KEY).then((s) => parseSsoState(s[SSO_STATE_KEY])),
    ])
      .then(([orgId, attempt]) => {
        if (!live) return;
        setRememberedOrg(orgId);
        if (orgId !== null || (isActive(attempt) && attempt.relayUrl === relayUrl))
          setMethod({ kind: 'sso', explanation: null, focus: false });
      })
      .catch(() => undefined)
      .finally(() => live && setReady(true));
    return () => {
      live = false;
    };
  }, [relayUrl]);

  if (!ready) return null;
  return method.kind === 'sso' && relayUrl !== null ? (
    <SsoSignInForm
      relayUrl={relayUrl}
      explanation={method.explanation}
      focus={method.focus}
      signedOut={signedOut}
      initialTarget={rememberedOrg ?? ''}
      onUsePassword={() => setMethod({ kind: 'password' })}
    />
  ) : (
    <SignInForm
      relayUrl={relayUrl}
      signedOut={signedOut}
      onUseSso={(explanation) => setMethod({ kind: 'sso', explanation, focus: true })}
    />
  );
}

/** Password, then (when the relay asks) the authenticator or recovery code. */
function SignInForm({
  relayUrl,
  signedOut,
  onUseSso,
}: {
  relayUrl: string | null;
  signedOut: boolean;
  /** Switches to SSO; `explanation` says why when the relay asked for it. */
  onUseSso: (explanation: string | null) => void;
}) {
  const [state, setState] = useState<SignInState>({ step: 'credentials', busy: false, error: null });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const flow = useMemo(
    () => (relayUrl ? new SignInFlow(new AuthApi(relayUrl), browserSessionStore, relayUrl, setState) : null),
    [relayUrl],
  );
  useEffect(() => {
    if (state.step === 'sso-required') onUseSso(state.message);
  }, [state, onUseSso]);

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
    state.step === 'credentials' && state.error ? (
      <p class="notice error" role="alert" id="sign-in-error">
        {state.error}
      </p>
    ) : null;

  if (state.step === 'second-factor') {
    return (
      <SecondFactorForm
        state={state}
        onSubmit={(code) => void flow?.submitCode(code)}
        onStartOver={() => flow?.restart()}
      />
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
        <button type="button" disabled={relayUrl === null} onClick={() => onUseSso(null)}>
          Sign in with SSO
        </button>
      </div>
      <div aria-live="polite">{error}</div>
    </form>
  );
}

/**
 * "Sign in with SSO": the rep gives the organisation's sign-in link (or ID); the background opens it
 * in a tab and finishes the sign-in when the relay's done page appears there. Progress and outcome
 * come from the attempt the background keeps in session storage.
 */
function SsoSignInForm({
  relayUrl,
  explanation,
  focus,
  signedOut,
  initialTarget,
  onUsePassword,
}: {
  relayUrl: string;
  explanation: string | null;
  focus: boolean;
  signedOut: boolean;
  initialTarget: string;
  onUsePassword: () => void;
}) {
  const [target, setTarget] = useState(initialTarget);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [attemptId, setAttemptId] = useState<string | null>(null);
  const [attempt, setAttempt] = useState<SsoState | null>(null);
  const [linkedEmail, setLinkedEmail] = useState<string | null>(null);
  /** Bumped when the form comes back after a link or second-factor step, so the field takes the focus. */
  const [focusTarget, setFocusTarget] = useState(0);
  const input = useRef<HTMLInputElement>(null);

  // Focus moves here when the form replaces the password form (the button, or the relay's answer), not
  // when the page merely opens on it (the rep may be typing the relay URL above).
  useEffect(() => {
    if (focus || focusTarget > 0) input.current?.focus();
  }, [focus, focusTarget]);

  useEffect(() => {
    const controller = new AbortController();
    const show = (value: unknown, adopt: boolean): void => {
      const next = parseSsoState(value);
      // An attempt already under way for this relay (the page was reloaded) is shown as ours.
      if (adopt && isActive(next) && next.relayUrl === relayUrl) setAttemptId(next.attemptId);
      setAttempt(next);
    };
    browser.storage.session
      .get(SSO_STATE_KEY)
      .then((stored) => {
        if (!controller.signal.aborted) show(stored[SSO_STATE_KEY], true);
      })
      .catch(() => undefined);
    const listener = (changes: Record<string, { newValue?: unknown }>, area: string): void => {
      const change = changes[SSO_STATE_KEY];
      if (area === 'session' && change) show(change.newValue, false);
    };
    browser.storage.onChanged.addListener(listener);
    controller.signal.addEventListener('abort', () => browser.storage.onChanged.removeListener(listener), {
      once: true,
    });
    return () => controller.abort();
  }, [relayUrl]);

  const mine = attempt !== null && attempt.attemptId === attemptId ? attempt : null;
  const waiting = starting || isActive(mine);

  const start = async (): Promise<void> => {
    const parsed = parseSsoTarget(target, relayUrl);
    if (!parsed.ok) {
      setFieldError(parsed.error);
      input.current?.focus();
      return;
    }
    setFieldError(null);
    setLinkedEmail(null);
    await begin(parsed.orgId);
  };

  const begin = async (orgId: string): Promise<void> => {
    setStartError(null);
    setStarting(true);
    try {
      // First await after the click: browsers only show the permission prompt during a user gesture.
      if (!(await ensureRelayPermission(relayUrl))) {
        setStartError(`The extension needs permission to reach ${new URL(relayUrl).origin}.`);
        return;
      }
      await saveRelayUrl(relayUrl);
      const message: ProtocolMessage = { type: 'sso-start', relayUrl, orgId };
      const answer = parseSsoStartResponse(await browser.runtime.sendMessage(message).catch(() => undefined));
      if (!answer.ok) {
        setStartError(answer.message);
        return;
      }
      setAttemptId(answer.attemptId);
    } catch (error) {
      setStartError(error instanceof Error ? error.message : String(error));
    } finally {
      setStarting(false);
    }
  };

  // Linked, not signed in (the relay's answer): the next SSO sign-in opens the session, so it starts
  // by itself. The identity provider usually still has the rep signed in, so it takes a moment.
  const linked = (email: string): void => {
    if (mine?.status !== 'not-linked') return;
    setLinkedEmail(email);
    void begin(mine.orgId);
  };

  // The link or second-factor step was left (or could not finish): the SSO form again, with the reason.
  const backToSso = (error: string | null): void => {
    setAttemptId(null);
    setStartError(error);
    setFocusTarget((n) => n + 1);
  };

  const cancel = (): void => {
    const message: ProtocolMessage = { type: 'sso-cancel' };
    browser.runtime.sendMessage(message).catch(() => undefined);
  };

  if (mine?.status === 'not-linked' && mine.relayUrl === relayUrl)
    return (
      <SsoLinkForm
        relayUrl={relayUrl}
        linkToken={mine.linkToken}
        onLinked={linked}
        onStartOver={() => backToSso(null)}
      />
    );
  if (mine?.status === 'mfa-required' && mine.relayUrl === relayUrl)
    return <SsoSecondFactor key={mine.attemptId} step={mine} onStartOver={backToSso} />;

  let status: JSX.Element | null = null;
  if (startError !== null) {
    status = (
      <p class="notice error" role="alert" data-testid="sso-error">
        {startError}
      </p>
    );
  } else if (mine?.status === 'pending' && linkedEmail !== null) {
    status = (
      <p class="notice info" data-testid="sso-pending">
        Linked {linkedEmail} to your company’s sign-in. Finishing SSO sign-in in the tab that opened…
      </p>
    );
  } else if (mine?.status === 'pending') {
    status = (
      <p class="notice info" data-testid="sso-pending">
        Finish signing in in the tab that opened. This page updates by itself when you are done; the sign-in
        stops after 10 minutes or if you close that tab.
      </p>
    );
  } else if (mine?.status === 'exchanging') {
    status = (
      <p class="notice info" data-testid="sso-pending">
        Finishing sign-in…
      </p>
    );
  } else if (mine?.status === 'signed-in') {
    status = (
      <p class="notice ok" data-testid="sso-signed-in">
        Signed in with SSO as <strong>{mine.email}</strong>.
      </p>
    );
  } else if (mine?.status === 'failed') {
    status = (
      <p class="notice error" role="alert" data-testid="sso-error">
        {mine.message}
      </p>
    );
  } else if (mine?.status === 'cancelled') {
    status = (
      <p class="notice warn" role="alert" data-testid="sso-cancelled">
        {ssoCancelMessage(mine.reason)}
      </p>
    );
  }

  return (
    <form
      class="sign-in"
      aria-labelledby="sso-title"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <h2 id="sso-title">Sign in with SSO</h2>
      {signedOut && (
        <p class="notice" data-testid="signed-out">
          You were signed out. Sign in again.
        </p>
      )}
      {explanation !== null && (
        <p class="notice info" id="sso-explanation" data-testid="sso-required">
          {explanation}
        </p>
      )}
      <div class="field">
        <label for="sso-target">Your organisation’s SSO sign-in link or ID</label>
        <input
          id="sso-target"
          ref={input}
          type="text"
          inputMode="url"
          autocomplete="off"
          spellcheck={false}
          value={target}
          aria-invalid={fieldError !== null}
          aria-describedby={[
            fieldError !== null ? 'sso-target-error' : '',
            'sso-target-hint',
            explanation !== null ? 'sso-explanation' : '',
          ]
            .filter(Boolean)
            .join(' ')}
          onInput={(e) => {
            setTarget(e.currentTarget.value);
            setFieldError(null);
          }}
        />
        {fieldError !== null && (
          <p id="sso-target-error" class="field-error" role="alert">
            {fieldError}
          </p>
        )}
        <p id="sso-target-hint" class="hint">
          Your admin gives you a link like {relayUrl}/v1/sso/saml/&lt;organisation ID&gt;/login. Paste it, or
          just the organisation ID.
        </p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={starting}>
          {isActive(mine) ? 'Start again' : 'Continue with SSO'}
        </button>
        {isActive(mine) && (
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        )}
        <button type="button" class="link" disabled={waiting} onClick={onUsePassword}>
          Use email and password instead
        </button>
      </div>
      <div aria-live="polite">{status}</div>
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
    try {
      const current = await browserSessionStore.get().catch(() => null);
      const scope = current ? { relayUrl: current.relayUrl, session: current, apiKey: null } : null;
      // Loaded on demand: the IndexedDB code is not part of the pages' shared bundle.
      const local = scope ? await import('../lib/store/local-store.ts').catch(() => null) : null;
      // Texts still in the offline outbox go out only while this rep is signed in: ask first.
      const queued = local && scope && !confirmed ? await local.waitingTexts(scope).catch(() => 0) : 0;
      if (queued > 0) {
        setWaiting(queued);
        return;
      }
      // Best effort on the relay; locally the session ends whatever it answers.
      if (current) await new AuthApi(current.relayUrl).logout(current.accessToken).catch(() => undefined);
      // The session goes first, so an open panel can no longer save a thread back; then the saved
      // threads, which hold customer data, go with it.
      await browserSessionStore.clear('signed-out');
      if (local && scope) await local.forgetLocalData(scope).catch(() => undefined);
    } finally {
      setBusy(false);
    }
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
      const before = await loadSettings();
      await saveSettings({ relayUrl, apiKey: apiKey.trim() || null });
      // Replacing or removing a key: the threads saved under the old one hold customer data.
      if (before.apiKey && before.apiKey !== apiKey.trim()) {
        const local = await import('../lib/store/local-store.ts').catch(() => null);
        await local
          ?.forgetLocalData({ relayUrl: before.relayUrl, session: null, apiKey: before.apiKey })
          .catch(() => undefined);
      }
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
