import type { ConversationHistory } from '../hooks/use-conversation-history.ts';
import type { ThreadMessages } from '../hooks/use-thread-messages.ts';
import type { ContactLookup } from '../lib/relay-types.ts';
import type { PendingItem } from '../lib/store/local-store.ts';
import type { PanelStore } from '../lib/store/store-client.ts';
import { ErrorNotice } from './ErrorNotice.tsx';
import { Thread } from './Thread.tsx';

/** The thread with the selected sender, texts waiting in the outbox, and why texting may be paused. */
export function ContactThread({
  lookup,
  thread,
  history,
  pending,
  source,
  store,
}: {
  lookup: ContactLookup;
  thread: ThreadMessages;
  history: ConversationHistory;
  pending: PendingItem[];
  source: 'cache' | 'network';
  store: PanelStore | null;
}) {
  return (
    <>
      {lookup.consent.review && (
        <p class="section notice warn" data-testid="review-pause">
          Texting is paused: the customer’s last reply may be an opt-out, and a reviewer has to decide. Call
          or email them meanwhile.
        </p>
      )}
      {history.threadError !== null && (
        <div class="section">
          <ErrorNotice error={history.threadError} />
        </div>
      )}
      <Thread
        messages={thread.messages}
        pending={pending}
        zone={lookup.contact.localTime?.zone ?? lookup.contact.timeZone}
        source={source}
        hasOlder={thread.cursor !== null}
        loadingOlder={history.loadingOlder}
        onLoadOlder={history.loadOlder}
        onDiscard={(key) => void store?.discard(key)}
        onRetry={(key) => void store?.retryNow(key)}
      />
    </>
  );
}
