import type { SsoTargetField } from '../hooks/use-sso-target.ts';

/** The organisation's SSO sign-in link or ID, with its error and a hint showing the link's shape. */
export function SsoTargetInput({
  field,
  relayUrl,
  explained,
}: {
  field: SsoTargetField;
  relayUrl: string;
  /** The form shows why the relay asked for SSO (`#sso-explanation`), which describes the field too. */
  explained: boolean;
}) {
  const { fieldError } = field;
  return (
    <div class="field">
      <label for="sso-target">Your organisation’s SSO sign-in link or ID</label>
      <input
        id="sso-target"
        ref={field.input}
        type="text"
        inputMode="url"
        autocomplete="off"
        spellcheck={false}
        value={field.target}
        aria-invalid={fieldError !== null}
        aria-describedby={[
          fieldError !== null ? 'sso-target-error' : '',
          'sso-target-hint',
          explained ? 'sso-explanation' : '',
        ]
          .filter(Boolean)
          .join(' ')}
        onInput={(e) => field.edit(e.currentTarget.value)}
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
  );
}
