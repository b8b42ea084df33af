import { useEffect, useState } from 'preact/hooks';
import { loadSettings, type Settings, watchSettings } from '../lib/settings.ts';

/** The panel's settings, kept current, and the URL hash that names the contact. */
export function usePanelSettings(): { settings: Settings | null; settingsError: unknown; hash: string } {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [settingsError, setSettingsError] = useState<unknown>(null);
  const [hash, setHash] = useState(() => location.hash);

  useEffect(() => {
    const controller = new AbortController();
    const refresh = (): void => {
      loadSettings().then(setSettings, setSettingsError);
    };
    refresh();
    // Saving in the options page takes effect here without reloading the CRM page.
    watchSettings(controller.signal, refresh);
    window.addEventListener('hashchange', () => setHash(location.hash), { signal: controller.signal });
    return () => controller.abort();
  }, []);
  return { settings, settingsError, hash };
}
