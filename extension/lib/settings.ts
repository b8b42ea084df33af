import { browser } from 'wxt/browser';
import { type AuthSession, parseAuthSession, type SessionStore } from './auth/session.ts';
import type { NotificationPreference } from './relay-types.ts';

/**
 * A signed-in session as the panel holds it: everything but the refresh token, which only the background
 * spends, and whether it may be kept across restarts, which only the background acts on.
 */
export type PanelSession = Omit<AuthSession, 'refreshToken' | 'keepSignedIn'>;

/** The settings as the panel gets them from the background (`settings-channel.ts`): no refresh token. */
export interface PanelSettings {
  relayUrl: string;
  apiKey: string | null;
  /** The signed-in session for `relayUrl`, if any; preferred over the API key. */
  session: PanelSession | null;
  /** The last session ended because its refresh was refused: the panel asks to sign in again. */
  signedOut: boolean;
  /** The relay URL comes from the browser's managed policy (set by IT); reps cannot change it. */
  relayUrlLocked: boolean;
}

/**
 * Where the relay is and what to authenticate with, as stored. Credentials (API key, session
 * tokens) live in session storage only, so they never touch disk.
 */
export interface Settings extends PanelSettings {
  relayUrl: string;
  apiKey: string | null;
  /** The signed-in session for `relayUrl`, if any; preferred over the API key. */
  session: AuthSession | null;
  /** The last session ended because its refresh was refused: the panel asks to sign in again. */
  signedOut: boolean;
  /** The relay URL comes from the browser's managed policy (set by IT); reps cannot change it. */
  relayUrlLocked: boolean;
}

/** What the panel may hold of the settings: the session without its refresh token. */
export function panelSettingsOf(settings: Settings): PanelSettings {
  if (settings.session === null) return { ...settings, session: null };
  const { refreshToken: _spent, keepSignedIn: _kept, ...session } = settings.session;
  return { ...settings, session };
}

/** The bearer token the panel should use: the session's access token, else the API key. */
export function credentialOf(settings: PanelSettings): string | null {
  return settings.session?.accessToken ?? settings.apiKey;
}

export const DEFAULT_RELAY_URL = 'http://127.0.0.1:8787';
const RELAY_URL_KEY = 'relayUrl';
const API_KEY_KEY = 'apiKey';
export const AUTH_SESSION_KEY = 'authSession';
const SIGNED_OUT_KEY = 'authSignedOut';

/** The session in `browser.storage.session`; only the background refreshes it. */
export const browserSessionStore: SessionStore = {
  async get() {
    const stored = await browser.storage.session.get(AUTH_SESSION_KEY);
    return parseAuthSession(stored[AUTH_SESSION_KEY]);
  },
  async set(session) {
    await browser.storage.session.set({ [AUTH_SESSION_KEY]: session });
    await browser.storage.session.remove(SIGNED_OUT_KEY);
  },
  async clear(reason) {
    await browser.storage.session.remove(AUTH_SESSION_KEY);
    if (reason === 'expired') await browser.storage.session.set({ [SIGNED_OUT_KEY]: true });
    else await browser.storage.session.remove(SIGNED_OUT_KEY);
  },
};

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

/** The relay URL an enterprise policy sets (`storage.managed`), or null when none or unreadable. */
async function managedRelayUrl(): Promise<string | null> {
  try {
    // Firefox throws when no policy manifest exists; Chrome answers {} without a policy.
    const managed = await browser.storage.managed.get(RELAY_URL_KEY);
    const value = managed[RELAY_URL_KEY];
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/**
 * The relay to use: the managed policy's when it holds a valid URL (a bad one is ignored, so a typo
 * in a policy cannot lock every rep out), else the rep's own choice, else the local default.
 */
export function resolveRelayUrl(
  managed: string | null,
  stored: unknown,
): { relayUrl: string; locked: boolean } {
  const fromPolicy = managed === null ? null : normalizeRelayUrl(managed);
  if (fromPolicy !== null) return { relayUrl: fromPolicy, locked: true };
  const own = typeof stored === 'string' ? normalizeRelayUrl(stored) : null;
  return { relayUrl: own ?? DEFAULT_RELAY_URL, locked: false };
}

/** How the API key is stored: with the relay it was entered for, so no other relay ever gets it. */
interface StoredApiKey {
  relayUrl: string;
  key: string;
}

/**
 * The stored key if it was entered for this relay, else null (the panel then asks to sign in). A
 * bare string from before keys were bound is dropped: nothing says which relay issued it.
 */
export function apiKeyFor(stored: unknown, relayUrl: string): string | null {
  if (typeof stored !== 'object' || stored === null) return null;
  const { relayUrl: boundTo, key } = stored as Partial<Record<keyof StoredApiKey, unknown>>;
  if (typeof boundTo !== 'string' || typeof key !== 'string' || key.length === 0) return null;
  return normalizeRelayUrl(boundTo) === relayUrl ? key : null;
}

export async function loadSettings(): Promise<Settings> {
  const [local, session, managed] = await Promise.all([
    browser.storage.local.get(RELAY_URL_KEY),
    browser.storage.session.get([API_KEY_KEY, AUTH_SESSION_KEY, SIGNED_OUT_KEY]),
    managedRelayUrl(),
  ]);
  const { relayUrl, locked } = resolveRelayUrl(managed, local[RELAY_URL_KEY]);
  const auth = parseAuthSession(session[AUTH_SESSION_KEY]);
  return {
    relayUrl,
    apiKey: apiKeyFor(session[API_KEY_KEY], relayUrl),
    // Tokens are only ever sent to the relay that issued them.
    session: auth && auth.relayUrl === relayUrl ? auth : null,
    signedOut: session[SIGNED_OUT_KEY] === true,
    relayUrlLocked: locked,
  };
}

export async function saveRelayUrl(relayUrl: string): Promise<void> {
  await browser.storage.local.set({ [RELAY_URL_KEY]: relayUrl });
}

export async function saveSettings(settings: { relayUrl: string; apiKey: string | null }): Promise<void> {
  await browser.storage.local.set({ [RELAY_URL_KEY]: settings.relayUrl });
  const relayUrl = normalizeRelayUrl(settings.relayUrl);
  if (settings.apiKey && relayUrl !== null) {
    const stored: StoredApiKey = { relayUrl, key: settings.apiKey };
    await browser.storage.session.set({ [API_KEY_KEY]: stored });
  } else await browser.storage.session.remove(API_KEY_KEY);
}

/** Calls `onChange` whenever the relay URL, API key or session changes, until `signal` aborts. */
export function watchSettings(signal: AbortSignal, onChange: () => void): void {
  const listener = (changes: Record<string, unknown>, area: string): void => {
    const sessionKeys = [API_KEY_KEY, AUTH_SESSION_KEY, SIGNED_OUT_KEY];
    if (
      ((area === 'local' || area === 'managed') && RELAY_URL_KEY in changes) ||
      (area === 'session' && sessionKeys.some((key) => key in changes))
    ) {
      onChange();
    }
  };
  browser.storage.onChanged.addListener(listener);
  signal.addEventListener('abort', () => browser.storage.onChanged.removeListener(listener), { once: true });
}

const NOTIFY_KEY = 'notifyInbound';
const NOTIFY_VALUES: readonly NotificationPreference[] = ['off', 'mine', 'all'];

/** The rep's own choice of inbound-text notifications; texts on their own conversations by default. */
export async function loadNotificationPreference(): Promise<NotificationPreference> {
  const stored = (await browser.storage.local.get(NOTIFY_KEY))[NOTIFY_KEY];
  return NOTIFY_VALUES.includes(stored as NotificationPreference)
    ? (stored as NotificationPreference)
    : 'mine';
}

export async function saveNotificationPreference(value: NotificationPreference): Promise<void> {
  await browser.storage.local.set({ [NOTIFY_KEY]: value });
}

/** What applies: the org admin's locked value when there is one, else the rep's own. */
export function effectiveNotificationPreference(
  own: NotificationPreference,
  locked: NotificationPreference | null,
): NotificationPreference {
  return locked ?? own;
}
