import { useEffect, useRef, useState } from 'preact/hooks';
import { DEFAULT_RELAY_URL, loadSettings, type Settings, watchSettings } from '../lib/settings.ts';

/** The options page's stored settings, kept current, and the relay URL the rep sees in its field. */
export interface OptionsSettings {
  settings: Settings | null;
  loadError: unknown;
  relayUrl: string;
  /** The rep typed in the field: later loads no longer replace it (unless a policy sets the URL). */
  editRelayUrl(url: string): void;
  /** A form saved this URL. */
  setRelayUrl(url: string): void;
}

/** Loads the settings and reloads them whenever another page (or the background) changes them. */
export function useOptionsSettings(): OptionsSettings {
  const [relayUrl, setRelayUrl] = useState(DEFAULT_RELAY_URL);
  const edited = useRef(false);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    let first = true;
    const load = (): void => {
      loadSettings().then((s) => {
        setSettings(s);
        // A policy's URL always shows; the stored one only on the first load, and never over what the
        // rep already typed (the first read can take a moment on a fresh profile).
        if (s.relayUrlLocked || (first && !edited.current)) setRelayUrl(s.relayUrl);
        first = false;
      }, setLoadError);
    };
    load();
    watchSettings(controller.signal, load);
    return () => controller.abort();
  }, []);

  const editRelayUrl = (url: string): void => {
    edited.current = true;
    setRelayUrl(url);
  };
  return { settings, loadError, relayUrl, editRelayUrl, setRelayUrl };
}
