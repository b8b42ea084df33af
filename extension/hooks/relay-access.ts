import { ensureRelayPermission } from '../lib/host-permission.ts';

/**
 * Asks for the host permission the relay needs and says why when it is refused (null when granted).
 * Call it first after the click: browsers show the permission prompt only during a user gesture.
 */
export async function relayAccessRefusal(relayUrl: string): Promise<string | null> {
  if (await ensureRelayPermission(relayUrl)) return null;
  return `The extension needs permission to reach ${new URL(relayUrl).origin}.`;
}

/** The text to show for an error thrown while preparing a sign-in. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
