import { useCallback } from 'preact/hooks';
import { useContactActions } from '../hooks/use-contact-actions.ts';
import { type Loaded, useContactLoad } from '../hooks/use-contact-load.ts';
import { useConversationHistory } from '../hooks/use-conversation-history.ts';
import { useDraft } from '../hooks/use-draft.ts';
import { useFirstPaintMark } from '../hooks/use-first-paint-mark.ts';
import { useLiveThread } from '../hooks/use-live-thread.ts';
import { useOutbox } from '../hooks/use-outbox.ts';
import { useSavedThread } from '../hooks/use-saved-thread.ts';
import { useThreadMessages } from '../hooks/use-thread-messages.ts';
import type { ContactRef } from '../hosts/types.ts';
import type { StreamState } from '../lib/event-stream.ts';
import type { PanelStore } from '../lib/panel-store.ts';
import type { RelayClient, RelayError } from '../lib/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import { mergeValues } from '../lib/templates.ts';
import type { MessageListener } from '../lib/use-live-messages.ts';
import { Composer } from './Composer.tsx';
import { ContactActions } from './ContactActions.tsx';
import { ContactHeader } from './ContactHeader.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { SenderPicker } from './SenderPicker.tsx';
import { Thread } from './Thread.tsx';

interface ContactViewProps {
  client: RelayClient;
  store: PanelStore | null;
  contactRef: ContactRef;
  contactKey: string;
  me: Me | null;
  live: StreamState | null;
  subscribe(listener: MessageListener): () => void;
  onInbound(): void;
  onStatus(status: 'loading' | 'ready' | 'error'): void;
}

/** Why nothing can be sent to this contact right now, or null. */
function blockedReasonFor({ lookup, numbers }: Loaded, hasStore: boolean, offline: boolean): string | null {
  const { consent } = lookup;
  if (lookup.contact.phone === null) return 'This contact has no mobile phone number in the CRM.';
  if (consent.status === 'opted_out')
    return `This contact opted out of texts${consent.source ? ` (${consent.source.replace(/_/g, ' ')})` : ''}. Only they can opt back in, by texting START.`;
  if (numbers.length === 0) return 'Your organisation has no sender numbers yet. Ask an admin to add one.';
  if (!hasStore && offline) return 'No connection to the relay.';
  return null;
}

/**
 * Everything for one contact: who, consent, the thread with one sender number, actions and the
 * composer. The saved copy of the thread shows at once; the relay's answer replaces it.
 */
export function ContactView(props: ContactViewProps) {
  const { client, store, contactRef, contactKey, me } = props;
  const thread = useThreadMessages();
  const contact = useContactLoad({
    ...props,
    liveOpen: props.live?.kind === 'open',
    onSavedThread: thread.show,
  });
  const { loaded, source, offline, sender } = contact;
  const history = useConversationHistory(client, contact, thread);
  const { draft, saveDraftSoon } = useDraft(store, contactKey);
  const outbox = useOutbox(store, contactKey, thread.merge);
  const { phone, onSent } = useLiveThread({
    ...props,
    loaded,
    sender,
    merge: thread.merge,
    reload: contact.reload,
  });
  const actions = useContactActions(contact);
  useSavedThread(store, contactRef, contact, thread);
  useFirstPaintMark(loaded !== null, source);

  const { updateConsent } = contact;
  const onRefused = useCallback(
    (error: RelayError) => {
      // The ledger just told us consent changed; reflect it without waiting for a reload.
      if (error.code === 'OPTED_OUT') updateConsent({ status: 'opted_out', pendingOptIn: null });
    },
    [updateConsent],
  );

  if (contact.loadError !== null) {
    return (
      <div class="section" data-state="error">
        <ErrorNotice error={contact.loadError} onRetry={contact.reload} />
      </div>
    );
  }
  if (!loaded || draft === null) {
    return (
      <p class="section muted" data-state="loading" role="status">
        Loading contact…
      </p>
    );
  }

  const { lookup, numbers } = loaded;
  const { consent } = lookup;
  const hasPhone = lookup.contact.phone !== null;
  const blockedReason = blockedReasonFor(loaded, store !== null, offline);
  const permissions = new Set(me?.permissions ?? []);

  return (
    <>
      <ContactHeader lookup={lookup} live={props.live} offline={offline} />
      {consent.review && (
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
        pending={outbox.pending}
        zone={lookup.contact.localTime?.zone ?? lookup.contact.timeZone}
        source={source}
        hasOlder={thread.cursor !== null}
        loadingOlder={history.loadingOlder}
        onLoadOlder={history.loadOlder}
        onDiscard={(key) => void store?.discard(key)}
        onRetry={(key) => void store?.retryNow(key)}
      />
      <ContactActions
        client={client}
        contactRef={contactRef}
        contactName={lookup.contact.name}
        phone={phone}
        canRecordConsent={permissions.has('consent.record')}
        canEscalate={permissions.has('messages.send') && !offline}
        optedIn={consent.status === 'opted_in'}
        optedOut={consent.status === 'opted_out'}
        open={actions.open}
        onOpen={actions.setOpen}
        onConsentRecorded={actions.consentRecorded}
      />
      {actions.notice && (
        <p
          class="section notice ok"
          role="status"
          tabIndex={-1}
          ref={actions.noticeRef}
          data-testid="action-notice"
        >
          {actions.notice}
        </p>
      )}
      <div class="section">
        <SenderPicker numbers={numbers} value={sender} onChange={contact.setSender} />
      </div>
      {hasPhone && (
        <Composer
          key={contactKey}
          client={client}
          contactRef={contactRef}
          to={phone}
          from={sender}
          blockedReason={blockedReason}
          templates={me?.extension.templates ?? []}
          mergeValues={mergeValues(lookup.contact, me)}
          initialDraft={draft}
          onDraftChange={saveDraftSoon}
          queueBehind={outbox.pending.some((p) => p.state !== 'failed')}
          onSent={onSent}
          onRefused={onRefused}
          onQueue={outbox.queue}
          onRecordConsent={
            permissions.has('consent.record') && phone !== null ? () => actions.setOpen('opt-in') : undefined
          }
        />
      )}
      {!hasPhone && <p class="section notice warn">{blockedReason}</p>}
    </>
  );
}
