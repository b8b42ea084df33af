import type { Ref } from 'preact';
import { useSsoLink } from '../hooks/use-sso-link.ts';
import { SsoLinkFields } from './SsoLinkFields.tsx';

/** The link step when only starting over is left: the owner must link the account, or the link expired. */
function SsoLinkRefused({
  message,
  startOver,
  onStartOver,
}: {
  message: string;
  startOver: Ref<HTMLButtonElement>;
  onStartOver: () => void;
}) {
  return (
    <section class="sign-in" aria-labelledby="sso-link-title">
      <h2 id="sso-link-title">Link your account</h2>
      <p class="notice error" role="alert" data-testid="sso-link-refused">
        {message}
      </p>
      <div class="actions">
        <button type="button" class="primary" ref={startOver} onClick={onStartOver}>
          Back to SSO sign-in
        </button>
      </div>
    </section>
  );
}

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
  const link = useSsoLink(relayUrl, linkToken, onLinked);
  const { state, codeNeeded } = link;
  if (state.step === 'needs-owner' || state.step === 'expired') {
    return <SsoLinkRefused message={state.message} startOver={link.startOver} onStartOver={onStartOver} />;
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
        link.submit();
      }}
    >
      <h2 id="sso-link-title">Link your account</h2>
      <p class="notice info" id="sso-link-explanation" data-testid="sso-not-linked">
        This account already has a password. Confirm it once to link it to your company’s sign-in; after that,
        SSO signs you in directly.
      </p>
      <SsoLinkFields
        password={link.password}
        onPassword={link.setPassword}
        code={link.code}
        onCode={link.setCode}
        codeNeeded={codeNeeded}
        hasError={error !== null}
        passwordInput={link.passwordInput}
        codeInput={link.codeInput}
      />
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
