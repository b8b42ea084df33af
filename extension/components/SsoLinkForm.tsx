import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AuthApi } from '../lib/auth/auth-api.ts';
import { SsoLinkFlow, type SsoLinkState } from '../lib/auth/sso-link-flow.ts';

/**
 * After SSO named an account that has its own password and is not linked to the identity provider yet:
 * the rep confirms that password (and authenticator code) once, then `onLinked` signs in with SSO again.
 */
export function SsoLinkForm({
  relayUrl,
  linkToken,
  onLinked,
  onStartOver,
}: {
  relayUrl: string;
  linkToken: string;
  onLinked: (email: string) => void;
  onStartOver: () => void;
}) {
  const [state, setState] = useState<SsoLinkState>({
    step: 'form',
    busy: false,
    error: null,
    codeNeeded: false,
  });
  const flow = useMemo(
    () => new SsoLinkFlow(new AuthApi(relayUrl), linkToken, setState),
    [relayUrl, linkToken],
  );
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const startOver = useRef<HTMLButtonElement>(null);
  // The link happens once; re-renders while the next sign-in starts must not start it again.
  const reported = useRef(false);

  // The step replaces the SSO form, so the password field takes the focus; once the relay asks for the
  // authenticator code, that field does; when only starting over is left, its button does.
  const codeNeeded = state.step === 'form' && state.codeNeeded;
  useEffect(() => passwordInput.current?.focus(), []);
  useEffect(() => {
    if (codeNeeded) codeInput.current?.focus();
  }, [codeNeeded]);
  useEffect(() => {
    if (state.step === 'needs-owner' || state.step === 'expired') startOver.current?.focus();
    if (state.step === 'linked' && !reported.current) {
      reported.current = true;
      onLinked(state.email);
    }
  }, [state, onLinked]);

  if (state.step === 'needs-owner' || state.step === 'expired') {
    return (
      <section class="sign-in" aria-labelledby="sso-link-title">
        <h2 id="sso-link-title">Link your account</h2>
        <p class="notice error" role="alert" data-testid="sso-link-refused">
          {state.message}
        </p>
        <div class="actions">
          <button type="button" class="primary" ref={startOver} onClick={onStartOver}>
            Back to SSO sign-in
          </button>
        </div>
      </section>
    );
  }

  const busy = state.step === 'linked' || state.busy;
  const error = state.step === 'form' ? state.error : null;
  return (
    <form
      class="sign-in"
      aria-labelledby="sso-link-title"
      aria-describedby="sso-link-explanation"
      onSubmit={(e) => {
        e.preventDefault();
        void flow.submit(password, code).then(() => setPassword(''));
      }}
    >
      <h2 id="sso-link-title">Link your account</h2>
      <p class="notice info" id="sso-link-explanation" data-testid="sso-not-linked">
        This account already has a password. Confirm it once to link it to your company’s sign-in; after that,
        SSO signs you in directly.
      </p>
      <div class="field">
        <label for="sso-link-password">Your password for this account</label>
        <input
          id="sso-link-password"
          ref={passwordInput}
          type="password"
          autocomplete="current-password"
          required
          value={password}
          aria-invalid={error !== null && !codeNeeded}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="sso-link-code">
          Authenticator code{codeNeeded ? '' : ' (only if your account uses an authenticator app)'}
        </label>
        <input
          id="sso-link-code"
          ref={codeInput}
          inputMode="numeric"
          autocomplete="one-time-code"
          spellcheck={false}
          required={codeNeeded}
          value={code}
          aria-describedby="sso-link-code-hint"
          aria-invalid={error !== null && codeNeeded}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
        <p id="sso-link-code-hint" class="hint">
          The 6-digit code your authenticator app shows now. Recovery codes do not work here.
        </p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Link and sign in
        </button>
        <button type="button" class="link" disabled={busy} onClick={onStartOver}>
          Cancel
        </button>
      </div>
      <div aria-live="polite">
        {error !== null && (
          <p class="notice error" role="alert" data-testid="sso-link-error">
            {error}
          </p>
        )}
        {state.step === 'linked' && (
          <p class="notice ok" data-testid="sso-linked">
            Linked {state.email}. Signing in with SSO…
          </p>
        )}
      </div>
    </form>
  );
}
