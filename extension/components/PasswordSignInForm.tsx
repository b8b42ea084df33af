import { usePasswordSignIn } from '../hooks/use-password-sign-in.ts';
import { SecondFactorForm } from './SecondFactorForm.tsx';
import { SignedOutNotice } from './SignedOutNotice.tsx';

/** Password, then (when the relay asks) the authenticator or recovery code. */
export function PasswordSignInForm({
  relayUrl,
  signedOut,
  onUseSso,
}: {
  relayUrl: string | null;
  signedOut: boolean;
  /** Switches to SSO; `explanation` says why when the relay asked for it. */
  onUseSso: (explanation: string | null) => void;
}) {
  const { state, email, setEmail, password, setPassword, submitPassword, submitCode, restart } =
    usePasswordSignIn(relayUrl, onUseSso);

  if (state.step === 'second-factor') {
    return <SecondFactorForm state={state} onSubmit={submitCode} onStartOver={restart} />;
  }

  const error =
    state.step === 'credentials' && state.error ? (
      <p class="notice error" role="alert" id="sign-in-error">
        {state.error}
      </p>
    ) : null;
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
      {signedOut && <SignedOutNotice />}
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
