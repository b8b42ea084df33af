import { useEffect, useState } from 'preact/hooks';
import { refreshedAccessToken } from '../lib/messages/background-requests.ts';
import { RelayClient } from '../lib/relay/relay-client.ts';
import type { NotificationPreference } from '../lib/relay-types.ts';
import {
  credentialOf,
  loadNotificationPreference,
  type Settings,
  saveNotificationPreference,
} from '../lib/settings.ts';

/** The rep's own notification choice, the organisation's lock on it, and saving a new choice. */
export interface NotificationPrefsState {
  credential: string | null;
  /** The rep's choice (null while it loads). */
  own: NotificationPreference | null;
  /** The admin's choice for everyone, when there is one. */
  locked: NotificationPreference | null;
  saved: boolean;
  choose(value: NotificationPreference): void;
}

export function useNotificationPrefs(settings: Settings): NotificationPrefsState {
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

  const choose = (value: NotificationPreference): void => {
    setOwn(value);
    setSaved(false);
    saveNotificationPreference(value).then(
      () => setSaved(true),
      (error: unknown) => {
        setSaved(false);
        console.warn('[crm-texting] could not save the notification choice', error);
      },
    );
  };
  return { credential, own, locked, saved, choose };
}
