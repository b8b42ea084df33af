import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { PANEL_SETTINGS_PORT, type SettingsPort } from '../lib/messages/settings-channel.ts';
import type { PanelSettings } from '../lib/settings.ts';
import { SettingsClient } from '../lib/settings-client.ts';

/**
 * The panel's settings, kept current by the background over the settings channel (the panel may run
 * where `browser.storage.session` does not exist), and the URL hash that names the contact.
 */
export function usePanelSettings(): { settings: PanelSettings | null; settingsError: unknown; hash: string } {
  const [settings, setSettings] = useState<PanelSettings | null>(null);
  const [settingsError, setSettingsError] = useState<unknown>(null);
  const [hash, setHash] = useState(() => location.hash);

  useEffect(() => {
    const controller = new AbortController();
    // Saving in the options page reaches here through the background without reloading the CRM page.
    const client = new SettingsClient({
      connect: () => browser.runtime.connect({ name: PANEL_SETTINGS_PORT }) as SettingsPort,
      onSettings: (next) => {
        setSettingsError(null);
        setSettings(next);
      },
      onError: setSettingsError,
    });
    client.start();
    window.addEventListener('hashchange', () => setHash(location.hash), { signal: controller.signal });
    return () => {
      client.stop();
      controller.abort();
    };
  }, []);
  return { settings, settingsError, hash };
}
