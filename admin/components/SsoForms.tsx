import { useState } from 'preact/hooks';
import { LAST_ORG_KEY, ssoTarget, startConsoleSso } from '../lib/sso.ts';

/** Single sign-on, first step: the org's SSO link or ID, then off to the identity provider. */
export function SsoStartForm({ onBack }: { onBack: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  return (
    <form
      aria-label="Sign in with single sign-on"
      onSubmit={(event) => {
        event.preventDefault();
        const typed = String(new FormData(event.currentTarget as HTMLFormElement).get('target'));
        const target = ssoTarget(typed);
        if (!target.ok) return setError(target.error);
        setError(null);
        setLeaving(true);
        location.assign(startConsoleSso(target.orgId));
      }}
    >
      <label>
        Your organisation’s sign-in link or ID
        <input
          name="target"
          required
          autocomplete="organization"
          defaultValue={localStorage.getItem(LAST_ORG_KEY) ?? ''}
          aria-describedby="sso-target-help"
          aria-invalid={error !== null}
        />
      </label>
      <p id="sso-target-help" class="hint">
        The link looks like {location.origin}/v1/sso/saml/&lt;organisation ID&gt;/login; an owner finds it on
        the console’s Single sign-on page.
      </p>
      {error !== null && (
        <p class="problem" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={leaving}>
        {leaving ? 'Opening your identity provider…' : 'Continue to your identity provider'}
      </button>
      <button type="button" class="secondary" onClick={onBack}>
        Use my password instead
      </button>
    </form>
  );
}

/** The IdP named an account that has its own password: its holder links it once, with that password. */
export function SsoLinkForm({
  busy,
  onLink,
  onBack,
}: {
  busy: boolean;
  onLink: (password: string, code: string | null) => Promise<void>;
  onBack: () => void;
}) {
  return (
    <form
      aria-label="Link your account to single sign-on"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget as HTMLFormElement);
        const code = String(form.get('code') ?? '').replace(/\s/g, '');
        void onLink(String(form.get('password')), code === '' ? null : code);
      }}
    >
      <p>
        Your identity provider signed you in, but this account has its own password and is not linked to it
        yet. Confirm it is yours once; from then on single sign-on opens it.
      </p>
      <label>
        Your password
        <input name="password" type="password" autocomplete="current-password" required />
      </label>
      <label>
        Authenticator code (if your account has one)
        <input name="code" autocomplete="one-time-code" inputMode="numeric" pattern="[0-9 ]{6,7}" />
      </label>
      <button type="submit" disabled={busy}>
        Link my account
      </button>
      <button type="button" class="secondary" onClick={onBack}>
        Cancel
      </button>
    </form>
  );
}
