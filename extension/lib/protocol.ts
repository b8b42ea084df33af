/**
 * Every message that crosses extension contexts. Receivers validate both the shape and the sender,
 * because content scripts share the extension id but run inside pages we do not control.
 */

/** Panel (or options) → background: open the options page. */
export interface OpenOptionsMessage {
  type: 'open-options';
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

/** The background's answer to `auth-refresh`; on ok the new token is in `browser.storage.session`. */
export type AuthRefreshResponse = { ok: true } | { ok: false; signedOut: boolean };

export type ProtocolMessage = OpenOptionsMessage | PanelStateMessage | AuthRefreshMessage;

const ACCESS_TOKEN = /^[\x21-\x7e]{1,512}$/;

const STATUSES: readonly PanelStatus[] = ['loading', 'unconfigured', 'no-contact', 'ready', 'error'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the message when it is exactly one of the protocol shapes, else null. */
export function parseProtocolMessage(value: unknown): ProtocolMessage | null {
  if (!isRecord(value)) return null;
  const keys = Object.keys(value);
  switch (value.type) {
    case 'open-options':
      return keys.length === 1 ? { type: 'open-options' } : null;
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
    default:
      return null;
  }
}

/** The background's answer, validated (anything else reads as a failed refresh that kept the session). */
export function parseAuthRefreshResponse(value: unknown): AuthRefreshResponse {
  if (isRecord(value) && Object.keys(value).length === 1 && value.ok === true) return { ok: true };
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

/**
 * Whether `message` from `sender` may be acted on by the background: open-options from any extension
 * page, panel-state only from the panel page inside a tab, auth-refresh only from the panel page inside
 * a tab or from the options page.
 */
export function backgroundAccepts(
  message: ProtocolMessage,
  sender: SenderInfo,
  self: ExtensionIdentity,
): boolean {
  switch (message.type) {
    case 'open-options':
      return isExtensionPage(sender, self);
    case 'panel-state':
      return isExtensionPage(sender, self, '/panel.html') && typeof sender.tab?.id === 'number';
    case 'auth-refresh':
      return (
        (isExtensionPage(sender, self, '/panel.html') && typeof sender.tab?.id === 'number') ||
        isExtensionPage(sender, self, '/options.html')
      );
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
