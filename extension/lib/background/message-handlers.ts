import { browser } from 'wxt/browser';
import type { SessionStore } from '../auth/session.ts';
import type { SsoCoordinator } from '../auth/sso-coordinator.ts';
import type { TokenRefresher } from '../auth/token-refresher.ts';
import {
  type AuthRefreshResponse,
  backgroundAccepts,
  type ExtensionIdentity,
  type ProtocolMessage,
  parseProtocolMessage,
  type SenderInfo,
  type SsoStartResponse,
} from '../messages/extension-messages.ts';
import type { LocalStore } from '../store/local-store.ts';
import type { StoreResponse } from '../store/store-messages.ts';
import { handleStoreMessage } from '../store/store-request-handler.ts';
import { reportSsoFailure } from './sso-ports.ts';

/** This extension, as senders are checked against it. */
function ownIdentity(): ExtensionIdentity {
  return { runtimeId: browser.runtime.id, origin: browser.runtime.getURL('/') };
}

/**
 * A panel's store request (validated and sender-checked in `store-request-handler.ts`). Answers through
 * `sendResponse` and returns true, or returns undefined when the message is another listener's.
 */
export function answerStoreRequest(
  raw: unknown,
  sender: SenderInfo,
  sendResponse: (response: StoreResponse) => void,
  storeFor: () => Promise<LocalStore | null>,
): true | undefined {
  const reply = handleStoreMessage(raw, sender, ownIdentity(), storeFor);
  if (reply === null) return undefined;
  void reply.then(sendResponse);
  return true;
}

/** What the background's protocol messages act on. */
export interface BackgroundServices {
  refresher: TokenRefresher;
  sso: SsoCoordinator;
  /** Where the refreshed access token is read back from, for the `auth-refresh` answer. */
  sessions: SessionStore;
}

type BackgroundResponse = AuthRefreshResponse | SsoStartResponse;

/**
 * One protocol message from a panel, the options page or a content script, parsed and sender-checked
 * first. Returns true when it will answer through `sendResponse` (sendResponse + `return true`, not a
 * returned promise, works in both Chrome and Firefox).
 */
export function answerProtocolMessage(
  raw: unknown,
  sender: SenderInfo,
  sendResponse: (response: BackgroundResponse) => void,
  services: BackgroundServices,
): true | undefined {
  const message = parseProtocolMessage(raw);
  if (!message) return undefined;
  if (!backgroundAccepts(message, sender, ownIdentity())) {
    console.warn('[crm-texting] rejected message', message.type, 'from', sender.url);
    return undefined;
  }
  return actOn(message, sender, sendResponse, services);
}

function actOn(
  message: ProtocolMessage,
  sender: SenderInfo,
  sendResponse: (response: BackgroundResponse) => void,
  { refresher, sso, sessions }: BackgroundServices,
): true | undefined {
  switch (message.type) {
    case 'open-options':
      browser.runtime
        .openOptionsPage()
        .catch((error: unknown) => console.error('openOptionsPage failed', error));
      return undefined;
    case 'open-inbox':
      browser.tabs
        .create({ url: browser.runtime.getURL('/popup.html') })
        .catch((error: unknown) => console.error('could not open the inbox', error));
      return undefined;
    case 'panel-state': {
      const tabId = sender.tab?.id;
      if (tabId === undefined) return undefined;
      // Top frame only: that is where the content script docking this panel runs.
      // best effort: the tab may have navigated away meanwhile, so a missing receiver is expected.
      browser.tabs.sendMessage(tabId, message, { frameId: 0 }).catch(() => undefined);
      return undefined;
    }
    case 'auth-refresh':
      refreshAnswer(refresher, sessions, message.staleAccessToken).then(sendResponse, (error: unknown) => {
        console.error('[crm-texting] refresh failed', error);
        sendResponse({ ok: false, signedOut: false });
      });
      return true;
    case 'sso-start':
      sso
        .start(message.relayUrl, message.orgId, sender.tab?.id ?? null)
        .then(sendResponse, (error: unknown) => {
          reportSsoFailure(error);
          sendResponse({ ok: false, message: 'SSO sign-in could not start. Try again.' });
        });
      return true;
    case 'sso-cancel':
      sso.cancel().catch(reportSsoFailure);
      return undefined;
  }
}

/** The refresh's outcome with the session's current access token, so the asker needs no storage access. */
async function refreshAnswer(
  refresher: TokenRefresher,
  sessions: SessionStore,
  staleAccessToken: string,
): Promise<AuthRefreshResponse> {
  const result = await refresher.refresh(staleAccessToken);
  if (!result.ok) return result;
  const session = await sessions.get();
  return session ? { ok: true, accessToken: session.accessToken } : { ok: false, signedOut: false };
}
