import { browser } from 'wxt/browser';

/**
 * Asks for access to the relay's origin when the manifest does not already grant it (a relay other than
 * the local default). Must be the first await after the click, or browsers drop the user gesture.
 */
export async function ensureRelayPermission(relayUrl: string): Promise<boolean> {
  const origins = [`${new URL(relayUrl).origin}/*`];
  try {
    return await browser.permissions.request({ origins });
  } catch {
    // Firefox rejects a request it cannot show (no gesture); fall back to what is already granted.
    return browser.permissions.contains({ origins });
  }
}
