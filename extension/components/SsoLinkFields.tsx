import type { Ref } from 'preact';

/** The password and authenticator-code fields of the SSO link step. */
export function SsoLinkFields({
  password,
  onPassword,
  code,
  onCode,
  codeNeeded,
  hasError,
  passwordInput,
  codeInput,
}: {
  password: string;
  onPassword: (value: string) => void;
  code: string;
  onCode: (value: string) => void;
  codeNeeded: boolean;
  hasError: boolean;
  passwordInput: Ref<HTMLInputElement>;
  codeInput: Ref<HTMLInputElement>;
}) {
  return (
    <>
      <div class="field">
        <label for="sso-link-password">Your password for this account</label>
        <input
          id="sso-link-password"
          ref={passwordInput}
          type="password"
          autocomplete="current-password"
          required
          value={password}
          aria-invalid={hasError && !codeNeeded}
          onInput={(e) => onPassword(e.currentTarget.value)}
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
          aria-invalid={hasError && codeNeeded}
          onInput={(e) => onCode(e.currentTarget.value)}
        />
        <p id="sso-link-code-hint" class="hint">
          The 6-digit code your authenticator app shows now. Recovery codes do not work here.
        </p>
      </div>
    </>
  );
}
