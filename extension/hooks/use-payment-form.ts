import { useEffect, useRef, useState } from 'preact/hooks';
import type { ContactRef } from '../hosts/types.ts';
import { parseAmount } from '../lib/money.ts';
import type { PaymentCreated, PaymentPreview, PaymentTerms } from '../lib/payment-types.ts';
import type { PaymentRequestInput, PaymentsApi } from '../lib/relay/payments-api.ts';
import { RelayError } from '../lib/relay/relay-client.ts';

/** What the rep types into the request form. */
export interface PaymentFields {
  amount: string;
  currency: string;
  description: string;
  reference: string;
  days: string;
}

export interface PaymentFormOptions {
  api: PaymentsApi;
  contactRef: ContactRef;
  /** The sender number the thread uses; null when the org has none. */
  from: string | null;
  /** The contact's number when the rep sees it; otherwise the relay texts the CRM record's. */
  to: string | null;
  onRequested(created: PaymentCreated): void;
}

const PREVIEW_DELAY_MS = 350;

/** The request's body from the fields, or the first reason it is not ready yet. */
export function paymentInput(
  fields: PaymentFields,
  terms: PaymentTerms,
  where: Pick<PaymentFormOptions, 'contactRef' | 'from' | 'to'>,
): { input: PaymentRequestInput; problem: null } | { input: null; problem: string } {
  if (where.from === null) return { input: null, problem: 'Your organisation has no sender number yet.' };
  const amount = parseAmount(fields.amount, fields.currency);
  if (amount.error !== null) return { input: null, problem: amount.error };
  if (amount.minor > terms.maxAmountMinor)
    return { input: null, problem: 'That is more than one request may ask for in your organisation.' };
  const description = fields.description.trim();
  if (description === '') return { input: null, problem: 'Say what the payment is for.' };
  const days = Number(fields.days);
  if (!Number.isInteger(days) || days < 1 || days > terms.maxLinkDays)
    return { input: null, problem: `The link may take payment for 1 to ${terms.maxLinkDays} days.` };
  const { crm, objectType, id } = where.contactRef;
  const input: PaymentRequestInput = {
    from: where.from,
    contact: { crm, objectType, id },
    amountMinor: amount.minor,
    currency: fields.currency,
    description,
    expiresInDays: days,
  };
  if (where.to !== null) input.to = where.to;
  const reference = fields.reference.trim();
  if (reference !== '') input.reference = reference;
  return { input, problem: null };
}

/**
 * The request form's state: the org's terms, the fields, a preview of the exact text (asked again
 * shortly after each change) and the send, which keeps its idempotency key until the relay answers
 * so a retry after a lost answer can never ask the customer twice.
 */
export function usePaymentForm(options: PaymentFormOptions) {
  const { api } = options;
  const [terms, setTerms] = useState<PaymentTerms | null>(null);
  const [termsError, setTermsError] = useState<unknown>(null);
  const [fields, setFields] = useState<PaymentFields>({
    amount: '',
    currency: '',
    description: '',
    reference: '',
    days: '',
  });
  const [preview, setPreview] = useState<PaymentPreview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = useRef<{ key: string; body: string } | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    api
      .terms(controller.signal)
      .then((t) => {
        setTerms(t);
        setFields((f) => ({ ...f, currency: t.currencies[0] ?? 'usd', days: String(t.linkDays) }));
      })
      .catch((thrown: unknown) => {
        if (!controller.signal.aborted) setTermsError(thrown);
      });
    return () => controller.abort();
  }, [api]);

  const ready = terms === null ? null : paymentInput(fields, terms, options);
  const body = ready?.input ? JSON.stringify(ready.input) : null;

  useEffect(() => {
    setPreview(null);
    setPreviewError(null);
    if (body === null) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api
        .preview(JSON.parse(body) as PaymentRequestInput, controller.signal)
        .then(setPreview)
        .catch((thrown: unknown) => {
          if (!controller.signal.aborted) setPreviewError(thrown);
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, body]);

  const submit = async (): Promise<void> => {
    if (busy || ready?.input == null || body === null) return;
    if (key.current?.body !== body) key.current = { key: crypto.randomUUID(), body };
    setBusy(true);
    setError(null);
    try {
      const created = await api.request(ready.input, key.current.key);
      key.current = null;
      setFields((f) => ({ ...f, amount: '', description: '', reference: '' }));
      options.onRequested(created);
    } catch (thrown) {
      // A refusal is final for this text; after a lost answer the same key is sent again.
      if (thrown instanceof RelayError && !thrown.outcomeUnknown) key.current = null;
      setError(thrown);
    } finally {
      setBusy(false);
    }
  };

  const set = (name: keyof PaymentFields, value: string): void => setFields((f) => ({ ...f, [name]: value }));
  return { terms, termsError, fields, set, ready, preview, previewError, busy, error, submit };
}
