import { useState } from 'preact/hooks';
import type { OpenAction as Open } from '../hooks/use-contact-actions.ts';
import type { PaymentFormOptions } from '../hooks/use-payment-form.ts';
import type { ContactRef } from '../hosts/types.ts';
import type { Payment } from '../lib/payment-types.ts';
import type { RelayClient } from '../lib/relay/relay-client.ts';
import type { ConsentRecorded, Message } from '../lib/relay-types.ts';
import { CardNumberOffer } from './CardNumberOffer.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { PaymentRequestForm } from './PaymentRequestForm.tsx';

interface ContactActionsProps {
  client: RelayClient;
  contactRef: ContactRef;
  contactName: string;
  /** The number to record consent for; null when the rep only sees it masked. */
  phone: string | null;
  canRecordConsent: boolean;
  canEscalate: boolean;
  /** Already opted in: nothing to record. */
  optedIn: boolean;
  optedOut: boolean;
  /** Which form to open first (the composer asks for the consent form after a NO_CONSENT refusal). */
  open: Open;
  onOpen(open: Open): void;
  onConsentRecorded(result: ConsentRecorded): void;
  /** What a payment request needs; null when this rep may not ask for payments here. */
  payment: Omit<PaymentFormOptions, 'contactRef'> | null;
  /** The thread's texts and payment requests: a card number texted in brings an offer of a link. */
  thread: { messages: readonly Message[]; payments: readonly Payment[] };
}

/** Escalate to a call or email task in the CRM, record an opt-in with its evidence, ask for a payment. */
export function ContactActions(props: ContactActionsProps) {
  const { open, onOpen } = props;
  const canOptIn = props.canRecordConsent && props.phone !== null && !props.optedIn && !props.optedOut;
  const { payment } = props;
  if (!props.canEscalate && !canOptIn && payment === null) return null;
  return (
    <>
      {payment !== null && open !== 'payment' && (
        <CardNumberOffer {...props.thread} onRequest={() => onOpen('payment')} />
      )}
      <ContactActionButtons {...props} canOptIn={canOptIn} />
    </>
  );
}

function ContactActionButtons(props: ContactActionsProps & { canOptIn: boolean }) {
  const { open, onOpen, payment, canOptIn } = props;
  return (
    <div class="section actions">
      <fieldset class="action-buttons">
        <legend class="visually-hidden">Contact actions</legend>
        {props.canEscalate && (
          <button
            type="button"
            aria-expanded={open === 'escalate'}
            onClick={() => onOpen(open === 'escalate' ? 'none' : 'escalate')}
          >
            Escalate…
          </button>
        )}
        {canOptIn && (
          <button
            type="button"
            aria-expanded={open === 'opt-in'}
            onClick={() => onOpen(open === 'opt-in' ? 'none' : 'opt-in')}
          >
            Mark opted in…
          </button>
        )}
        {payment !== null && (
          <button
            type="button"
            aria-expanded={open === 'payment'}
            onClick={() => onOpen(open === 'payment' ? 'none' : 'payment')}
          >
            Request payment…
          </button>
        )}
      </fieldset>
      {open === 'payment' && payment !== null && (
        <PaymentRequestForm
          {...payment}
          contactRef={props.contactRef}
          contactName={props.contactName}
          onClose={() => onOpen('none')}
        />
      )}
      {open === 'escalate' && props.canEscalate && <EscalateForm {...props} />}
      {open === 'opt-in' && canOptIn && props.phone && <OptInForm {...props} phone={props.phone} />}
    </div>
  );
}

/** One form action's progress: busy while it runs, then its confirmation or its error. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (work: () => Promise<string | null>): Promise<void> => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await work());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run };
}

function EscalateForm({ client, contactRef, contactName, onOpen }: ContactActionsProps) {
  const [kind, setKind] = useState<'call' | 'email'>('call');
  const [note, setNote] = useState('');
  const { busy, error, done, run } = useAction();
  const submit = (): Promise<void> =>
    run(async () => {
      if (note.trim() === '') return null;
      await client.escalate({
        contact: { crm: contactRef.crm, objectType: contactRef.objectType, id: contactRef.id },
        kind,
        note: note.trim(),
      });
      setNote('');
      return `${kind === 'call' ? 'A call' : 'An email'} task for ${contactName} is in the CRM.`;
    });
  return (
    <form
      class="action-form"
      aria-label="Escalate"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <fieldset>
        <legend>Log a task in the CRM</legend>
        <label class="inline-label">
          <input type="radio" name="kind" checked={kind === 'call'} onChange={() => setKind('call')} /> Call
        </label>
        <label class="inline-label">
          <input type="radio" name="kind" checked={kind === 'email'} onChange={() => setKind('email')} />{' '}
          Email
        </label>
      </fieldset>
      <label for="escalate-note">What should happen</label>
      <textarea
        id="escalate-note"
        rows={2}
        maxLength={2000}
        value={note}
        onInput={(e) => setNote(e.currentTarget.value)}
      />
      {error !== null && <ErrorNotice error={error} />}
      {done && (
        <p class="notice ok" role="status" data-testid="escalated">
          {done}
        </p>
      )}
      <div class="composer-row">
        <button type="button" onClick={() => onOpen('none')}>
          Close
        </button>
        <button type="submit" class="primary" disabled={busy || note.trim() === ''}>
          {busy ? 'Logging…' : 'Log task'}
        </button>
      </div>
    </form>
  );
}

function OptInForm({ client, phone, onOpen, onConsentRecorded }: ContactActionsProps & { phone: string }) {
  const [source, setSource] = useState<'verbal' | 'web_form' | 'api'>('verbal');
  const [evidence, setEvidence] = useState('');
  const { busy, error, run } = useAction();
  const ready = evidence.trim().length >= 3;
  // The confirmation is the contact view's: this form closes once consent is recorded.
  const submit = (): Promise<void> =>
    run(async () => {
      if (!ready) return null;
      const result = await client.recordConsent({ phone, kind: 'opt_in', source, evidence: evidence.trim() });
      setEvidence('');
      onConsentRecorded(result);
      return null;
    });
  return (
    <form
      class="action-form"
      aria-label="Mark opted in"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label for="optin-source">How did they agree?</label>
      <select
        id="optin-source"
        value={source}
        onChange={(e) => setSource(e.currentTarget.value as 'verbal' | 'web_form' | 'api')}
      >
        <option value="verbal">Verbally (call or meeting)</option>
        <option value="web_form">Web form</option>
        <option value="api">Other written record</option>
      </select>
      <label for="optin-evidence">Evidence (who, when, how)</label>
      <textarea
        id="optin-evidence"
        rows={2}
        maxLength={2000}
        placeholder="e.g. Agreed on the call of 12 May with Jane, ticket #4411"
        value={evidence}
        onInput={(e) => setEvidence(e.currentTarget.value)}
      />
      {error !== null && <ErrorNotice error={error} />}
      <div class="composer-row">
        <button type="button" onClick={() => onOpen('none')}>
          Close
        </button>
        <button type="submit" class="primary" disabled={busy || !ready}>
          {busy ? 'Recording…' : 'Record opt-in'}
        </button>
      </div>
    </form>
  );
}
