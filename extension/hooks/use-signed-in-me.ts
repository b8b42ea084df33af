import { useEffect, useState } from 'preact/hooks';
import { refreshedAccessToken } from '../lib/messages/background-requests.ts';
import { RelayClient } from '../lib/relay/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import { browserSessionStore } from '../lib/settings.ts';

/** Who is signed in, from `GET /v1/me` with the stored session (refreshed on a 401), and why it failed. */
export function useSignedInMe(
  relayUrl: string | undefined,
  email: string | undefined,
): { me: Me | null; error: unknown } {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!relayUrl) return undefined;
    const controller = new AbortController();
    browserSessionStore
      .get()
      .then((current) => {
        if (!current) return null;
        return new RelayClient({
          baseUrl: relayUrl,
          apiKey: current.accessToken,
          onUnauthorized: refreshedAccessToken,
        }).me(controller.signal);
      })
      .then((result) => result && setMe(result))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
    // The email is a dependency on purpose: another account signed in to the same relay is asked again.
  }, [relayUrl, email]);
  return { me, error };
}
