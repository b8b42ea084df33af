import { useEffect } from 'preact/hooks';
import type { RelayClient } from '../lib/relay/relay-client.ts';
import type { Message } from '../lib/relay-types.ts';

/**
 * A thread on screen is read: tells the relay (POST /v1/conversations/:id/read) when the thread of
 * `conversationId` is shown and again when a reply arrives while it is, so the inbox and the icon's
 * badge agree on every browser the rep uses. Only a person has read state, so an API key skips it.
 */
export function useMarkRead(
  client: RelayClient,
  conversationId: string | null,
  messages: readonly Message[],
  isPerson: boolean,
): void {
  const latestReply = messages.reduce<string>(
    (latest, m) =>
      m.direction === 'inbound' && m.conversationId === conversationId && m.createdAt > latest
        ? m.createdAt
        : latest,
    '',
  );
  useEffect(() => {
    if (conversationId === null || !isPerson || document.visibilityState === 'hidden') return undefined;
    const controller = new AbortController();
    client.markRead(conversationId, controller.signal).catch((error: unknown) => {
      // best effort: the thread stays unread in the inbox until it is shown again; nothing is lost.
      if (!controller.signal.aborted) console.warn('[crm-texting] could not mark the thread read', error);
    });
    return () => controller.abort();
  }, [client, conversationId, latestReply, isPerson]);
}
