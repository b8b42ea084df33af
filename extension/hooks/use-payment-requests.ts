import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Payment } from '../lib/payment-types.ts';
import type { PaymentsApi } from '../lib/relay/payments-api.ts';
import { RelayError } from '../lib/relay/relay-client.ts';
import type { Message } from '../lib/relay-types.ts';
import type { PaymentListener } from './use-live-messages.ts';

/** The payment requests of the thread on screen, kept current by `payment.updated` events. */
export interface PaymentRequests {
  /** Newest first. */
  payments: Payment[];
  /** Why the list could not be read, or null. */
  loadError: unknown;
  /** The request a change is under way for, or null. */
  busy: string | null;
  /** Why the last change was refused, with that request's id. */
  error: { paymentId: string; message: string } | null;
  /** A request the form just made: shown at once, before its live event arrives. */
  added(payment: Payment): void;
  cancel(id: string): void;
  remind(id: string): void;
}

/** Answers that mean "no payment requests here", not a failure worth showing. */
const PAYMENTS_ABSENT = ['PAYMENTS_NOT_CONFIGURED', 'NOT_FOUND', 'FORBIDDEN'];

/** Keeps the newer of two copies of one request (a live event may overtake an answer, or lag it). */
function merged(list: readonly Payment[], incoming: Payment): Payment[] {
  const old = list.find((p) => p.id === incoming.id);
  if (old && old.updatedAt > incoming.updatedAt) return [...list];
  const rest = list.filter((p) => p.id !== incoming.id);
  return [incoming, ...rest].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export function usePaymentRequests(options: {
  api: PaymentsApi;
  /** The selected sender's conversation with this contact, or null before the first text. */
  conversationId: string | null;
  subscribePayments(listener: PaymentListener): () => void;
  /** A reminder's text goes into the thread at once. */
  onTexted(message: Message): void;
}): PaymentRequests {
  const { api, conversationId, subscribePayments, onTexted } = options;
  const [payments, setPayments] = useState<Payment[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<PaymentRequests['error']>(null);
  const current = useRef(conversationId);
  current.current = conversationId;

  useEffect(() => {
    setPayments((list) => list.filter((p) => p.conversationId === conversationId));
    setLoadError(null);
    if (conversationId === null) return undefined;
    const controller = new AbortController();
    api
      .ofConversation(conversationId, controller.signal)
      .then((list) => setPayments((shown) => list.reduce(merged, shown)))
      .catch((thrown: unknown) => {
        if (controller.signal.aborted) return;
        // A relay without payment links (off, or older than them) or a role that may not see
        // them: the thread simply has no payment requests to show.
        if (thrown instanceof RelayError && PAYMENTS_ABSENT.includes(thrown.code)) return;
        setLoadError(thrown);
      });
    return () => controller.abort();
  }, [api, conversationId]);

  useEffect(
    () =>
      subscribePayments((payment) => {
        setPayments((list) =>
          payment.conversationId === current.current || list.some((p) => p.id === payment.id)
            ? merged(list, payment)
            : list,
        );
      }),
    [subscribePayments],
  );

  const added = useCallback((payment: Payment) => setPayments((list) => merged(list, payment)), []);

  const change = async (id: string, call: () => Promise<Payment>): Promise<void> => {
    setBusy(id);
    setError(null);
    try {
      added(await call());
    } catch (thrown) {
      setError({ paymentId: id, message: thrown instanceof RelayError ? thrown.message : String(thrown) });
    } finally {
      setBusy(null);
    }
  };

  return {
    payments,
    loadError,
    busy,
    error,
    added,
    cancel: (id: string) => void change(id, () => api.cancel(id)),
    remind: (id: string) =>
      void change(id, async () => {
        const { payment, message } = await api.remind(id);
        onTexted(message);
        return payment;
      }),
  };
}
