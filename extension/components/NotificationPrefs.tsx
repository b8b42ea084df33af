import { useEffect, useState } from 'preact/hooks';
import { refreshedAccessToken } from '../lib/messaging.ts';
import { RelayClient } from '../lib/relay-client.ts';
import type { NotificationPreference } from '../lib/relay-types.ts';
import {
  credentialOf,
  effectiveNotificationPreference,
  loadNotificationPreference,
  type Settings,
  saveNotificationPreference,
} from '../lib/settings.ts';

const CHOICES: { value: NotificationPreference; label: string }[] = [
  { value: 'mine', label: 'Texts on conversations I take part in' },
  { value: 'all', label: 'Every text I can see' },
  { value: 'off', label: 'None' },
];

/** Which inbound texts raise a desktop notification; shown locked when the org's admin chose for everyone. */
export function NotificationPrefs({ settings }: { settings: Settings }) {
  const [own, setOwn] = useState<NotificationPreference | null>(null);
  const [locked, setLocked] = useState<NotificationPreference | null>(null);
  const [saved, setSaved] = useState(false);
  const credential = credentialOf(settings);

  useEffect(() => {
    loadNotificationPreference().then(setOwn, () => setOwn('mine'));
  }, []);

  useEffect(() => {
    setLocked(null);
    if (!credential) return undefined;
    const controller = new AbortController();
    new RelayClient({
      baseUrl: settings.relayUrl,
      apiKey: credential,
      ...(settings.session ? { onUnauthorized: refreshedAccessToken } : {}),
    })
      .me(controller.signal)
      .then((me) => setLocked(me.extension.locked.notifications))
      .catch((error: unknown) => {
        // Unlocked until the relay says otherwise; the rep's own choice still applies.
        if (!controller.signal.aborted) console.warn('[crm-texting] could not read /v1/me', error);
      });
    return () => controller.abort();
  }, [settings.relayUrl, credential]);

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
            onChange={() => {
              setOwn(c.value);
              setSaved(false);
              saveNotificationPreference(c.value).then(
                () => setSaved(true),
                () => setSaved(false),
              );
            }}
          />{' '}
          {c.label}
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
