import { browser } from 'wxt/browser';

/**
 * The match pattern that grants a relay's host: scheme and host, no port. Match patterns ignore the
 * port in Chrome and cannot carry one in Firefox, where a pattern with a port is not covered by the
 * manifest's `http://127.0.0.1/*`: the request then waits on a prompt that never shows.
 */
export function relayOriginPattern(relayUrl: string): string {
  const url = new URL(relayUrl);
  return `${url.protocol}//${url.hostname}/*`;
}

/**
 * Asks for access to the relay's origin when the manifest does not already grant it (a relay other than
 * the local default). Must be the first await after the click, or browsers drop the user gesture.
 */
export async function ensureRelayPermission(relayUrl: string): Promise<boolean> {
  const origins = [relayOriginPattern(relayUrl)];
  try {
    return await browser.permissions.request({ origins });
  } catch {
    // Firefox rejects a request it cannot show (no gesture); fall back to what is already granted.
    return browser.permissions.contains({ origins });
  }
}
