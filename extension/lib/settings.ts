import { browser } from 'wxt/browser';

/** Where the panel finds the relay. The API key lives in session storage so it never touches disk. */
export interface Settings {
  relayUrl: string;
  apiKey: string | null;
}

export const DEFAULT_RELAY_URL = 'http://127.0.0.1:8787';
const RELAY_URL_KEY = 'relayUrl';
const API_KEY_KEY = 'apiKey';

/** A relay base URL without trailing slash, query or hash; null unless http(s). */
export function normalizeRelayUrl(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export async function loadSettings(): Promise<Settings> {
  const [local, session] = await Promise.all([
    browser.storage.local.get(RELAY_URL_KEY),
    browser.storage.session.get(API_KEY_KEY),
  ]);
  const storedUrl = local[RELAY_URL_KEY];
  const storedKey = session[API_KEY_KEY];
  return {
    relayUrl: (typeof storedUrl === 'string' && normalizeRelayUrl(storedUrl)) || DEFAULT_RELAY_URL,
    apiKey: typeof storedKey === 'string' && storedKey.length > 0 ? storedKey : null,
  };
}

export async function saveSettings(settings: { relayUrl: string; apiKey: string | null }): Promise<void> {
  await browser.storage.local.set({ [RELAY_URL_KEY]: settings.relayUrl });
  if (settings.apiKey) await browser.storage.session.set({ [API_KEY_KEY]: settings.apiKey });
  else await browser.storage.session.remove(API_KEY_KEY);
}

/** Calls `onChange` whenever the relay URL or API key changes, until `signal` aborts. */
export function watchSettings(signal: AbortSignal, onChange: () => void): void {
  const listener = (changes: Record<string, unknown>, area: string): void => {
    if ((area === 'local' && RELAY_URL_KEY in changes) || (area === 'session' && API_KEY_KEY in changes)) {
      onChange();
    }
  };
  browser.storage.onChanged.addListener(listener);
  signal.addEventListener('abort', () => browser.storage.onChanged.removeListener(listener), { once: true });
}
