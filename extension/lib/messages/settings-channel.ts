/**
 * The panel's settings channel: a runtime Port from the panel page to the background, which posts the
 * current Settings at once and again on every change. The panel cannot read storage itself when Firefox
 * runs its frame in the web page's content process (no `storage.session` there).
 */

import { parseSessionWithoutRefresh } from '../auth/session.ts';
import type { PanelSettings } from '../settings.ts';
import { isRecord } from '../validate.ts';
import { type ExtensionIdentity, isInboxPage, isPanelInTab, isRelayBaseUrl } from './extension-messages.ts';
import type { ChannelPort } from './reconnecting-port.ts';

/** The Port name the panel connects with. */
export const PANEL_SETTINGS_PORT = 'panel-settings';

/** Background → panel: what the settings are now, or why they could not be read. */
export type SettingsChannelMessage =
  | { type: 'settings'; settings: PanelSettings }
  | { type: 'settings-unavailable'; message: string };

/** The settings Port, as both ends use it. */
export type SettingsPort = ChannelPort;

/** Whether the background serves settings on `port`: only to the panel page framed in a tab, and the inbox. */
export function backgroundAcceptsSettingsPort(port: SettingsPort, self: ExtensionIdentity): boolean {
  return (
    port.name === PANEL_SETTINGS_PORT &&
    port.sender !== undefined &&
    (isPanelInTab(port.sender, self) || isInboxPage(port.sender, self))
  );
}

const SETTINGS_KEYS = ['apiKey', 'relayUrl', 'relayUrlLocked', 'session', 'signedOut'];
/** A panel session's keys: never a refresh token (a message carrying one is refused). */
const SESSION_KEYS = ['accessToken', 'email', 'expiresAt', 'relayUrl'];

function hasExactKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value).sort();
  return own.length === keys.length && own.every((key, i) => key === keys[i]);
}

/** The panel's settings exactly as `panelSettingsOf` builds them, else null. */
export function parseSettings(value: unknown): PanelSettings | null {
  if (!isRecord(value) || !hasExactKeys(value, SETTINGS_KEYS)) return null;
  const { relayUrl, apiKey, session, signedOut, relayUrlLocked } = value;
  if (!isRelayBaseUrl(relayUrl)) return null;
  if (apiKey !== null && (typeof apiKey !== 'string' || apiKey.length === 0 || apiKey.length > 1000))
    return null;
  if (typeof signedOut !== 'boolean' || typeof relayUrlLocked !== 'boolean') return null;
  if (session === null) return { relayUrl, apiKey, session: null, signedOut, relayUrlLocked };
  if (!isRecord(session) || !hasExactKeys(session, SESSION_KEYS)) return null;
  const parsed = parseSessionWithoutRefresh(session);
  // Tokens are only for the relay that issued them, as `loadSettings` guarantees.
  if (parsed === null || parsed.relayUrl !== relayUrl) return null;
  return { relayUrl, apiKey, session: parsed, signedOut, relayUrlLocked };
}

/** Returns the message when it is exactly one of the channel's shapes, else null. */
export function parseSettingsChannelMessage(value: unknown): SettingsChannelMessage | null {
  if (!isRecord(value) || Object.keys(value).length !== 2) return null;
  if (value.type === 'settings') {
    const settings = parseSettings(value.settings);
    return settings ? { type: 'settings', settings } : null;
  }
  if (value.type === 'settings-unavailable') {
    const { message } = value;
    if (typeof message !== 'string' || message.length === 0 || message.length > 500) return null;
    return { type: 'settings-unavailable', message };
  }
  return null;
}
