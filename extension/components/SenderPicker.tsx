import type { SenderNumber } from '../lib/relay-types.ts';

/** Chooses which of the org's numbers the text comes from (and so which thread is shown). */
export function SenderPicker({
  numbers,
  value,
  onChange,
  disabled,
}: {
  numbers: readonly SenderNumber[];
  value: string | null;
  onChange(e164: string): void;
  disabled?: boolean;
}) {
  return (
    <div>
      <label for="sender">Send from</label>
      <select
        id="sender"
        value={value ?? ''}
        disabled={disabled || numbers.length === 0}
        onChange={(e) => onChange(e.currentTarget.value)}
      >
        {numbers.length === 0 && <option value="">No sender numbers</option>}
        {numbers.map((n) => (
          <option key={n.id} value={n.e164}>
            {n.label ? `${n.label} (${n.e164})` : n.e164}
          </option>
        ))}
      </select>
    </div>
  );
}
