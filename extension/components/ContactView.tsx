import type { Loaded } from '../hooks/use-contact-load.ts';
import { useContactPayments } from '../hooks/use-contact-payments.ts';
import { type ContactViewProps, useContactView } from '../hooks/use-contact-view.ts';
import { useScheduledTexts } from '../hooks/use-scheduled-texts.ts';
import { typingText } from '../hooks/use-typing.ts';
import { isOwnText } from '../lib/own-text.ts';
import { mergeValues } from '../lib/templates.ts';
import { ActionNotice } from './ActionNotice.tsx';
import { Composer } from './Composer.tsx';
import { ContactActions } from './ContactActions.tsx';
import { ContactHeader } from './ContactHeader.tsx';
import { ContactThread } from './ContactThread.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { PaymentRequests } from './PaymentRequests.tsx';
import { ScheduledTexts } from './ScheduledTexts.tsx';
import { SenderPicker } from './SenderPicker.tsx';

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

/** "Sam is typing…" while a colleague composes in the shown conversation. */
function TypingNotice({ names }: { names: readonly string[] }) {
  const text = typingText(names);
  if (text === null) return null;
  return (
    <p class="section typing muted" role="status" aria-live="polite" data-testid="typing">
      {text}
    </p>
  );
}

/**
 * Everything for one contact: who, consent, the thread with one sender number, actions and the
 * composer. The saved copy of the thread shows at once; the relay's answer replaces it.
 */
export function ContactView(props: ContactViewProps) {
  const { client, store, contactRef, contactKey, me } = props;
  const { thread, contact, history, draft, outbox, phone, onSent, actions, phoneAccess, typing } =
    useContactView(props);
  const scheduled = useScheduledTexts(client, thread.messages, thread.merge);
  const { loaded, source, offline, sender } = contact;
  const payments = useContactPayments(props, { loaded, sender, phone, onSent, actions });

  if (contact.loadError !== null || !loaded || draft === null) return notReady(contact);

  const { lookup, numbers } = loaded;
  const { consent } = lookup;
  const hasPhone = lookup.contact.phone !== null;
  const blockedReason = blockedReasonFor(loaded, store !== null, offline);
  const permissions = new Set(me?.permissions ?? []);

  return (
    <>
      <ContactHeader lookup={lookup} live={props.live} offline={offline} phoneAccess={phoneAccess} />
      <ContactThread
        lookup={lookup}
        thread={thread}
        history={history}
        pending={outbox.pending}
        source={source}
        store={store}
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
        payment={payments.action(hasPhone && blockedReason === null && !offline)}
        thread={{ messages: thread.messages, payments: payments.state.payments }}
      />
      {actions.notice && <ActionNotice notice={actions.notice} noticeRef={actions.noticeRef} />}
      <ScheduledTexts
        state={scheduled}
        zone={lookup.contact.localTime?.zone ?? lookup.contact.timeZone}
        canChange={(m) => permissions.has('messages.manage') || isOwnText(m, me)}
      />
      <PaymentRequests state={payments.state} canChange={payments.canChange} />
      <div class="section">
        <SenderPicker numbers={numbers} value={sender} onChange={contact.setSender} />
      </div>
      <TypingNotice names={typing.typing} />
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
          onDraftChange={typing.onDraftChange}
          queueBehind={outbox.pending.some((p) => p.state !== 'failed')}
          scheduleChanges={scheduled.changes}
          onSent={onSent}
          onRefused={contact.refused}
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

/** What shows until the contact and its draft are loaded: the load's error, or that it is loading. */
function notReady(contact: ReturnType<typeof useContactView>['contact']) {
  if (contact.loadError !== null)
    return (
      <div class="section" data-state="error">
        <ErrorNotice error={contact.loadError} onRetry={contact.reload} />
      </div>
    );
  return (
    <p class="section muted" data-state="loading" role="status">
      Loading contact…
    </p>
  );
}
