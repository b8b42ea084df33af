import { useNotificationPrefs } from '../hooks/use-notification-prefs.ts';
import type { NotificationPreference } from '../lib/relay-types.ts';
import { effectiveNotificationPreference, type Settings } from '../lib/settings.ts';

const CHOICES: { value: NotificationPreference; label: string }[] = [
  { value: 'mine', label: 'Texts on conversations I take part in' },
  { value: 'all', label: 'Every text I can see' },
  { value: 'off', label: 'None' },
];

/** Which inbound texts raise a desktop notification; shown locked when the org's admin chose for everyone. */
export function NotificationPrefs({ settings }: { settings: Settings }) {
  const { credential, own, locked, saved, choose } = useNotificationPrefs(settings);
  if (!credential || own === null) return null;
  const value = effectiveNotificationPreference(own, locked);
  return (
    <fieldset class="notifications" disabled={locked !== null} data-locked={locked !== null}>
      <legend>Notifications for incoming texts</legend>
      {CHOICES.map((c) => (
        <label key={c.value} class="choice">
          <input
            type="radio"
            name="notify"
            value={c.value}
            checked={value === c.value}
            onChange={() => choose(c.value)}
          />
          <span>{c.label}</span>
        </label>
      ))}
      {locked !== null && (
        <p class="hint" data-testid="notifications-locked">
          <span aria-hidden="true">🔒</span> Set by your organisation’s admin.
        </p>
      )}
      {saved && locked === null && (
        <p class="hint" role="status">
          Saved.
        </p>
      )}
    </fieldset>
  );
}
