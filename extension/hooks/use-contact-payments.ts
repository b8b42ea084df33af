import { useMemo } from 'preact/hooks';
import type { Payment } from '../lib/payment-types.ts';
import { PaymentsApi } from '../lib/relay/payments-api.ts';
import type { Me, Message } from '../lib/relay-types.ts';
import type { ContactActionsState } from './use-contact-actions.ts';
import type { Loaded } from './use-contact-load.ts';
import type { PaymentListener } from './use-live-messages.ts';
import type { PaymentFormOptions } from './use-payment-form.ts';
import { type PaymentRequests, usePaymentRequests } from './use-payment-requests.ts';

/** The relay's rule for cancelling or reminding: the rep who asked, or a manager. */
function mayChangePayment(payment: Payment, me: Me | null): boolean {
  if (me?.permissions.includes('messages.manage')) return true;
  return me?.userId != null && payment.createdBy.userId === me.userId;
}

/**
 * A contact view's payment side: the selected thread's requests (live), who may change them, and
 * what the "Request payment" form needs when the rep may ask here.
 */
export function useContactPayments(
  props: {
    client: ConstructorParameters<typeof PaymentsApi>[0];
    me: Me | null;
    subscribePayments(listener: PaymentListener): () => void;
  },
  view: {
    loaded: Loaded | null;
    sender: string | null;
    phone: string | null;
    onSent(message: Message): void;
    actions: Pick<ContactActionsState, 'paymentRequested'>;
  },
): {
  state: PaymentRequests;
  canChange(payment: Payment): boolean;
  /** The form's options when `allowed` (and the rep holds payments.create), else null. */
  action(allowed: boolean): Omit<PaymentFormOptions, 'contactRef'> | null;
} {
  const { client, me } = props;
  const api = useMemo(() => new PaymentsApi(client), [client]);
  const state = usePaymentRequests({
    api,
    conversationId: view.loaded?.conversations.find((c) => c.senderNumber === view.sender)?.id ?? null,
    subscribePayments: props.subscribePayments,
    onTexted: view.onSent,
  });
  return {
    state,
    canChange: (payment) => mayChangePayment(payment, me),
    action: (allowed) =>
      allowed && me?.permissions.includes('payments.create')
        ? {
            api,
            from: view.sender,
            to: view.phone,
            onRequested: (created) => {
              view.onSent(created.message);
              state.added(created.payment);
              view.actions.paymentRequested(created.payment.amountText);
            },
          }
        : null,
  };
}
