import { useCallback, useEffect, useState } from 'preact/hooks';
import { sendToBackground } from '../lib/messages/background-requests.ts';
import type { PanelStatus } from '../lib/messages/extension-messages.ts';

/**
 * Counts the replies that arrived for the contact on screen (from zero on each new contact) and tells
 * the background, which shows them with the status on the collapsed toggle.
 */
export function usePanelBadge(status: PanelStatus, contactKey: string | null): { onInbound(): void } {
  const [inboundCount, setInboundCount] = useState(0);
  useEffect(() => setInboundCount(0), [contactKey]);
  useEffect(() => {
    // best effort: only for the collapsed toggle's badge; losing it (e.g. the tab is closing) costs nothing.
    sendToBackground({ type: 'panel-state', status, inboundCount }).catch(() => undefined);
  }, [status, inboundCount]);
  const onInbound = useCallback(() => setInboundCount((n) => n + 1), []);
  return { onInbound };
}
