import { useEffect, useRef } from 'preact/hooks';
import { type PaymentFormOptions, usePaymentForm } from '../hooks/use-payment-form.ts';
import { formatMinor, minorDigits } from '../lib/money.ts';
import type { PaymentPreview, PaymentTerms } from '../lib/payment-types.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

interface PaymentRequestFormProps extends PaymentFormOptions {
  contactName: string;
  onClose(): void;
}

/**
 * "Request payment": amount, currency from the org's list, what it is for, an optional invoice or
 * deal reference and how long the link lives; below, the exact text the customer will get and what
 * the send rules say about it. Sending goes through the same rules as any text.
 */
export function PaymentRequestForm(props: PaymentRequestFormProps) {
  const form = usePaymentForm(props);
  const { terms, fields, set, ready, preview } = form;
  if (form.termsError !== null)
    return (
      <div class="action-form" data-testid="payment-form">
        <ErrorNotice error={form.termsError} />
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    );
  if (terms === null)
    return (
      <p class="muted" role="status">
        Loading your organisation’s payment terms…
      </p>
    );
  const allowed = preview?.check.allowed === true;
  return (
    <form
      class="action-form"
      aria-label="Request payment"
      data-testid="payment-form"
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <AmountAndCurrency form={{ ...form, terms }} />
      <label for="payment-description">What it is for</label>
      <input
        id="payment-description"
        type="text"
        maxLength={120}
        placeholder="e.g. Crown fitting, 12 May"
        value={fields.description}
        onInput={(e) => set('description', e.currentTarget.value)}
      />
      <ReferenceAndDays form={{ ...form, terms }} />
      <p class="meta small" id="payment-problem" data-testid="payment-problem">
        {ready?.problem ??
          `At most ${formatMinor(terms.maxAmountMinor, fields.currency)} per request. The customer pays on a secure page; never ask for card numbers by text.`}
      </p>
      <PreviewAndVerdict preview={preview} contactName={props.contactName} />
      {form.previewError !== null && <ErrorNotice error={form.previewError} />}
      {form.error !== null && <ErrorNotice error={form.error} />}
      <div class="composer-row">
        <button type="button" onClick={props.onClose}>
          Close
        </button>
        <button type="submit" class="primary" disabled={form.busy || !allowed}>
          {form.busy ? 'Sending…' : 'Send payment request'}
        </button>
      </div>
    </form>
  );
}

type Form = ReturnType<typeof usePaymentForm> & { terms: PaymentTerms };

function AmountAndCurrency({ form }: { form: Form }) {
  const { terms, fields, set } = form;
  const decimals = minorDigits(fields.currency);
  // Opened from a button or the card-number offer: typing starts in the amount.
  const amount = useRef<HTMLInputElement>(null);
  useEffect(() => amount.current?.focus(), []);
  return (
    <div class="amount-row">
      <label>
        Amount
        <input
          type="text"
          inputMode={decimals === 0 ? 'numeric' : 'decimal'}
          autoComplete="off"
          placeholder={decimals === 0 ? '1250' : '125.00'}
          value={fields.amount}
          onInput={(e) => set('amount', e.currentTarget.value)}
          aria-describedby="payment-problem"
        />
      </label>
      <label>
        Currency
        <select
          value={fields.currency}
          disabled={terms.currencies.length < 2}
          onChange={(e) => set('currency', e.currentTarget.value)}
        >
          {terms.currencies.map((c) => (
            <option key={c} value={c}>
              {c.toUpperCase()}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function ReferenceAndDays({ form }: { form: Form }) {
  const { terms, fields, set } = form;
  return (
    <div class="amount-row">
      <label>
        Invoice or deal reference (optional)
        <input
          type="text"
          maxLength={60}
          value={fields.reference}
          onInput={(e) => set('reference', e.currentTarget.value)}
        />
      </label>
      <label>
        Link works for (days)
        <input
          type="number"
          min={1}
          max={terms.maxLinkDays}
          value={fields.days}
          onInput={(e) => set('days', e.currentTarget.value)}
        />
      </label>
    </div>
  );
}

/** The exact text the customer will get, and what the send rules say about it now. */
function PreviewAndVerdict({
  preview,
  contactName,
}: {
  preview: PaymentPreview | null;
  contactName: string;
}) {
  const refusals = preview?.check.refusals ?? [];
  return (
    <>
      {preview && (
        <>
          <div class="meta">{contactName} will get:</div>
          <pre class="payment-preview" data-testid="payment-preview">
            {preview.text}
          </pre>
        </>
      )}
      {refusals.map((r) => (
        <p key={r.code} class="notice warn" data-testid="payment-refusal" data-code={r.code}>
          {r.message}
        </p>
      ))}
    </>
  );
}
