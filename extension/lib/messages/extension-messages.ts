/**
 * Every message that crosses extension contexts. Receivers validate both the shape and the sender,
 * because content scripts share the extension id but run inside pages we do not control.
 */

import { isRecord } from '../validate.ts';

/** Panel (or options) → background: open the options page. */
export interface OpenOptionsMessage {
  type: 'open-options';
}

/** Panel → background: open the inbox in a tab of its own. */
export interface OpenInboxMessage {
  type: 'open-inbox';
}

/** Panel → background → the content script of the panel's tab: what the collapsed toggle should show. */
export interface PanelStateMessage {
  type: 'panel-state';
  status: PanelStatus;
  /** Inbound messages received since the panel loaded; the content script badges the difference. */
  inboundCount: number;
}

export type PanelStatus = 'loading' | 'unconfigured' | 'no-contact' | 'ready' | 'error';

/**
 * Panel or options → background: the relay answered 401 to `staleAccessToken`; refresh the session
 * (the background is the only spender of refresh tokens). Answered with an `AuthRefreshResponse`.
 */
export interface AuthRefreshMessage {
  type: 'auth-refresh';
  staleAccessToken: string;
}

/**
 * The background's answer to `auth-refresh`: on ok, the session's current access token (pages that
 * cannot read `browser.storage.session`, like the panel framed in a content process, need it here).
 */
export type AuthRefreshResponse = { ok: true; accessToken: string } | { ok: false; signedOut: boolean };

/**
 * Options → background: start "Sign in with SSO" for `orgId` on the relay at `relayUrl` (a normalized
 * base URL, as `normalizeRelayUrl` returns it). The background opens the relay's login address in a tab
 * and reports progress under `SSO_STATE_KEY` in `browser.storage.session`. Answered with an
 * `SsoStartResponse`.
 */
export interface SsoStartMessage {
  type: 'sso-start';
  relayUrl: string;
  orgId: string;
}

/** The background's answer to `sso-start`: the attempt to watch for, or why nothing started. */
export type SsoStartResponse = { ok: true; attemptId: string } | { ok: false; message: string };

/** Options → background: stop the waiting SSO sign-in and close its tab. */
export interface SsoCancelMessage {
  type: 'sso-cancel';
}

export type ProtocolMessage =
  | OpenOptionsMessage
  | OpenInboxMessage
  | PanelStateMessage
  | AuthRefreshMessage
  | SsoStartMessage
  | SsoCancelMessage;

const ACCESS_TOKEN = /^[\x21-\x7e]{1,512}$/;

/** An organisation ID as the relay's SSO routes take it (a UUID, lower case). */
export const SSO_ORG_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A relay base URL exactly as `normalizeRelayUrl` leaves it: http(s), no credentials, query, fragment or trailing slash. */
export function isRelayBaseUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2000) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password || url.search || url.hash) return false;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '') === value;
}

const STATUSES: readonly PanelStatus[] = ['loading', 'unconfigured', 'no-contact', 'ready', 'error'];

/** Returns the message when it is exactly one of the protocol shapes, else null. */
export function parseProtocolMessage(value: unknown): ProtocolMessage | null {
  if (!isRecord(value)) return null;
  const keys = Object.keys(value);
  switch (value.type) {
    case 'open-options':
      return keys.length === 1 ? { type: 'open-options' } : null;
    case 'open-inbox':
      return keys.length === 1 ? { type: 'open-inbox' } : null;
    case 'panel-state': {
      const { status, inboundCount } = value;
      if (keys.length !== 3) return null;
      if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) return null;
      if (typeof inboundCount !== 'number' || !Number.isSafeInteger(inboundCount) || inboundCount < 0) {
        return null;
      }
      return { type: 'panel-state', status: status as PanelStatus, inboundCount };
    }
    case 'auth-refresh': {
      const { staleAccessToken } = value;
      if (keys.length !== 2) return null;
      if (typeof staleAccessToken !== 'string' || !ACCESS_TOKEN.test(staleAccessToken)) return null;
      return { type: 'auth-refresh', staleAccessToken };
    }
    case 'sso-start': {
      const { relayUrl, orgId } = value;
      if (keys.length !== 3) return null;
      if (!isRelayBaseUrl(relayUrl) || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      return { type: 'sso-start', relayUrl, orgId };
    }
    case 'sso-cancel':
      return keys.length === 1 ? { type: 'sso-cancel' } : null;
    default:
      return null;
  }
}

/** The background's answer, validated (anything else reads as a failed refresh that kept the session). */
export function parseAuthRefreshResponse(value: unknown): AuthRefreshResponse {
  if (
    isRecord(value) &&
    Object.keys(value).length === 2 &&
    value.ok === true &&
    typeof value.accessToken === 'string' &&
    ACCESS_TOKEN.test(value.accessToken)
  ) {
    return { ok: true, accessToken: value.accessToken };
  }
  if (
    isRecord(value) &&
    Object.keys(value).length === 2 &&
    value.ok === false &&
    typeof value.signedOut === 'boolean'
  ) {
    return { ok: false, signedOut: value.signedOut };
  }
  return { ok: false, signedOut: false };
}

/** The background's answer to `sso-start`, validated (anything else reads as "did not start"). */
export function parseSsoStartResponse(value: unknown): SsoStartResponse {
  if (isRecord(value) && Object.keys(value).length === 2) {
    const { ok, attemptId, message } = value;
    if (ok === true && typeof attemptId === 'string' && attemptId.length > 0 && attemptId.length <= 100)
      return { ok: true, attemptId };
    if (ok === false && typeof message === 'string' && message.length > 0) return { ok: false, message };
  }
  return { ok: false, message: 'The extension did not start SSO sign-in. Reload this page and try again.' };
}

/** The parts of `runtime.MessageSender` the checks need (kept structural so tests need no browser). */
export interface SenderInfo {
  id?: string | undefined;
  url?: string | undefined;
  tab?: { id?: number | undefined } | undefined;
  frameId?: number | undefined;
}

/** Who we are, as the receiver sees it. */
export interface ExtensionIdentity {
  runtimeId: string;
  /** `browser.runtime.getURL('/')`, e.g. `chrome-extension://abc/`. */
  origin: string;
}

function isExtensionPage(sender: SenderInfo, self: ExtensionIdentity, path?: string): boolean {
  if (sender.id !== self.runtimeId || typeof sender.url !== 'string') return false;
  // A content script also carries our id but reports the host page's URL, so the prefix check is what
  // separates our own pages from scripts living in a CRM page. (Not URL.origin: it is "null" for
  // extension schemes in some engines.)
  if (!self.origin.endsWith('/') || !sender.url.startsWith(self.origin)) return false;
  let url: URL;
  try {
    url = new URL(sender.url);
  } catch {
    return false;
  }
  return path === undefined || url.pathname === path;
}

/** The panel page framed in a tab (the only place it runs); also the store's one accepted sender. */
export function isPanelInTab(sender: SenderInfo, self: ExtensionIdentity): boolean {
  return isExtensionPage(sender, self, '/panel.html') && typeof sender.tab?.id === 'number';
}

/** The inbox page: the toolbar popup, or the same page in a tab (never web-accessible). */
export function isInboxPage(sender: SenderInfo, self: ExtensionIdentity): boolean {
  return isExtensionPage(sender, self, '/popup.html');
}

/**
 * Whether `message` from `sender` may be acted on by the background: open-options and open-inbox from any extension
 * page, panel-state only from the panel page inside a tab, auth-refresh only from the panel page inside
 * a tab, the inbox or the options page, sso-start and sso-cancel only from the options page (they open and
 * close tabs, and end in a stored session).
 */
export function backgroundAccepts(
  message: ProtocolMessage,
  sender: SenderInfo,
  self: ExtensionIdentity,
): boolean {
  switch (message.type) {
    case 'open-options':
    case 'open-inbox':
      return isExtensionPage(sender, self);
    case 'panel-state':
      return isPanelInTab(sender, self);
    case 'auth-refresh':
      return (
        isPanelInTab(sender, self) ||
        isInboxPage(sender, self) ||
        isExtensionPage(sender, self, '/options.html')
      );
    case 'sso-start':
    case 'sso-cancel':
      return isExtensionPage(sender, self, '/options.html');
  }
}

/** Whether a content script may act on `message`: only panel-state relayed by our background (no tab). */
export function contentScriptAccepts(
  message: ProtocolMessage,
  sender: SenderInfo,
  self: ExtensionIdentity,
): boolean {
  return message.type === 'panel-state' && sender.tab === undefined && isExtensionPage(sender, self);
}
