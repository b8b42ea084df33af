import { DEFAULT_RELAY_URL } from '../lib/settings.ts';

/** The relay address: read-only with a lock when the organisation's IT policy sets it. */
export function RelayUrlField({
  value,
  normalized,
  locked,
  onInput,
}: {
  value: string;
  /** The address as it will be used, or null when it is not a valid http(s) URL. */
  normalized: string | null;
  locked: boolean;
  onInput: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for="relay-url">Relay URL</label>
      <input
        id="relay-url"
        type="url"
        value={value}
        required
        readOnly={locked}
        aria-invalid={normalized === null}
        aria-describedby="relay-url-hint"
        onInput={(e) => onInput(e.currentTarget.value)}
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
  );
}
