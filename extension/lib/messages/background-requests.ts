import { browser } from 'wxt/browser';
import {
  type AuthRefreshResponse,
  type ProtocolMessage,
  parseAuthRefreshResponse,
} from './extension-messages.ts';

/** Sends a protocol message to the background; typed so only protocol shapes can be sent. */
export async function sendToBackground(message: ProtocolMessage): Promise<void> {
  await browser.runtime.sendMessage(message);
}

/** Asks the background to refresh the session after a 401 to `staleAccessToken`. */
export async function requestRefresh(staleAccessToken: string): Promise<AuthRefreshResponse> {
  try {
    return parseAuthRefreshResponse(
      await browser.runtime.sendMessage({ type: 'auth-refresh', staleAccessToken } satisfies ProtocolMessage),
    );
  } catch {
    return { ok: false, signedOut: false };
  }
}

/**
 * For `RelayClient.onUnauthorized` in extension pages: the fresh access token the background's refresh
 * answers with, or null when there is none.
 */
export async function refreshedAccessToken(staleAccessToken: string): Promise<string | null> {
  const result = await requestRefresh(staleAccessToken);
  return result.ok ? result.accessToken : null;
}
