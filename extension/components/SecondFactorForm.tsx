import { useEffect, useRef, useState } from 'preact/hooks';
import type { SignInState } from '../lib/auth/sign-in-flow.ts';

type SecondFactorState = Extract<SignInState, { step: 'second-factor' }>;

/**
 * The second sign-in step, after a password or after the identity provider (SSO): the authenticator
 * code or a recovery code. It replaces the form before it, so its field takes the focus.
 */
export function SecondFactorForm({
  state,
  hint = 'The 6-digit code from your authenticator app, or one of your recovery codes.',
  onSubmit,
  onStartOver,
}: {
  state: SecondFactorState;
  /** What to enter, when the account's factors call for other words than the usual ones. */
  hint?: string;
  onSubmit: (code: string) => void;
  onStartOver: () => void;
}) {
  const [code, setCode] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  return (
    <form
      class="sign-in"
      aria-labelledby="second-factor-title"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(code);
      }}
    >
      <h2 id="second-factor-title">Two-step verification</h2>
      <p>
        Signing in as {state.email}
        {state.via === 'sso' ? ' with SSO' : ''}.
      </p>
      <div class="field">
        <label for="mfa-code">Authentication code or recovery code</label>
        <input
          id="mfa-code"
          autocomplete="one-time-code"
          spellcheck={false}
          ref={input}
          value={code}
          aria-describedby="mfa-code-hint"
          aria-invalid={Boolean(state.error)}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
        <p id="mfa-code-hint" class="hint">
          {hint}
        </p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={state.busy}>
          Verify
        </button>
        <button type="button" disabled={state.busy} onClick={onStartOver}>
          Start over
        </button>
      </div>
      <div aria-live="polite">
        {state.error && (
          <p class="notice error" role="alert" id="sign-in-error">
            {state.error}
          </p>
        )}
      </div>
    </form>
  );
}
