import { useState } from 'preact/hooks';
import type { PaymentRequests as PaymentRequestsState } from '../hooks/use-payment-requests.ts';
import { formatTimestamp } from '../lib/format.ts';
import { formatMinor } from '../lib/money.ts';
import { OPEN_PAYMENT_STATUSES, type Payment, type PaymentStatus } from '../lib/payment-types.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

/** Each status as the rep reads it, and the badge's tone. */
const STATUS_LABELS: Record<PaymentStatus, { label: string; tone: 'wait' | 'ok' | 'bad' | 'off' }> = {
  sent: { label: 'Link sent', tone: 'wait' },
  opened: { label: 'Opened', tone: 'wait' },
  checkout_started: { label: 'At checkout', tone: 'wait' },
  processing: { label: 'Processing', tone: 'wait' },
  paid: { label: 'Paid', tone: 'ok' },
  failed: { label: 'Payment failed', tone: 'bad' },
  expired: { label: 'Expired unpaid', tone: 'off' },
  canceled: { label: 'Canceled', tone: 'off' },
  partially_refunded: { label: 'Partly refunded', tone: 'ok' },
  refunded: { label: 'Refunded', tone: 'off' },
  disputed: { label: 'Disputed', tone: 'bad' },
};

export function paymentStatusLabel(status: PaymentStatus): string {
  return STATUS_LABELS[status].label;
}

/** Card brands as the provider names them (`visa`, `amex`), as people write them. */
const BRANDS: Record<string, string> = {
  amex: 'American Express',
  diners: 'Diners Club',
  jcb: 'JCB',
  mastercard: 'Mastercard',
  unionpay: 'UnionPay',
};
const brandName = (brand: string): string =>
  BRANDS[brand] ?? brand.charAt(0).toUpperCase() + brand.slice(1).replace(/_/g, ' ');

/** The line under the amount: what happened last, in words. */
function statusLine(p: Payment): string {
  if (p.paid !== null) {
    const card = p.paid.card ? ` by ${brandName(p.paid.card.brand)} ending ${p.paid.card.last4}` : '';
    const refunded = p.refundedMinor > 0 ? `; ${formatMinor(p.refundedMinor, p.currency)} refunded` : '';
    return `${formatMinor(p.paid.amountMinor, p.paid.currency)} paid${card}${refunded}.`;
  }
  if (OPEN_PAYMENT_STATUSES.includes(p.status))
    return `The link takes payment until ${formatTimestamp(p.expiresAt)}.`;
  if (p.status === 'expired') return 'The link lapsed unpaid. Send a new request if they still mean to pay.';
  if (p.status === 'canceled') return 'Canceled: the link no longer takes payment.';
  if (p.status === 'failed') return 'The customer’s payment did not go through; the link is closed.';
  return `Updated ${formatTimestamp(p.updatedAt)}.`;
}

function PaymentCard({
  payment: p,
  state,
  canChange,
}: {
  payment: Payment;
  state: PaymentRequestsState;
  canChange: boolean;
}) {
  const [confirming, setConfirming] = useState(false);
  const { label, tone } = STATUS_LABELS[p.status];
  const open = OPEN_PAYMENT_STATUSES.includes(p.status);
  const busy = state.busy === p.id;
  const error = state.error?.paymentId === p.id ? state.error.message : null;
  return (
    <li class="payment-card" data-testid="payment-request" data-payment-id={p.id} data-status={p.status}>
      <div class="payment-head">
        <strong>{p.amountText}</strong>
        <span class={`payment-status ${tone}`} data-testid="payment-status">
          {label}
        </span>
      </div>
      <div class="payment-what">
        {p.description}
        {p.reference && <span class="meta"> · Ref {p.reference}</span>}
      </div>
      <div class="meta" data-testid="payment-line">
        {statusLine(p)}
      </div>
      {p.reviewReason && (
        <p class="notice warn" data-testid="payment-review">
          Needs a look: {p.reviewReason}
        </p>
      )}
      {p.remindedAt && <div class="meta">Reminder sent {formatTimestamp(p.remindedAt)}.</div>}
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      {open && canChange && !confirming && (
        <div class="composer-row">
          <button type="button" disabled={busy || p.remindedAt !== null} onClick={() => state.remind(p.id)}>
            {p.remindedAt !== null ? 'Reminder sent' : 'Send reminder'}
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(true)}>
            Cancel request…
          </button>
        </div>
      )}
      {open && canChange && confirming && (
        <fieldset class="composer-row">
          <legend>The link stops taking payment at once.</legend>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
          <button
            type="button"
            class="primary"
            disabled={busy}
            onClick={() => {
              setConfirming(false);
              state.cancel(p.id);
            }}
          >
            Cancel request
          </button>
        </fieldset>
      )}
    </li>
  );
}

/**
 * The thread's payment requests with their live status; the rep who asked (or a manager) may send
 * the one reminder or cancel an open link.
 */
export function PaymentRequests({
  state,
  canChange,
}: {
  state: PaymentRequestsState;
  canChange: (payment: Payment) => boolean;
}) {
  if (state.payments.length === 0 && state.loadError === null) return null;
  return (
    <section class="section payments" aria-label="Payment requests">
      <h2>Payment requests</h2>
      {state.loadError !== null && <ErrorNotice error={state.loadError} />}
      <ul aria-live="polite">
        {state.payments.map((p) => (
          <PaymentCard key={p.id} payment={p} state={state} canChange={canChange(p)} />
        ))}
      </ul>
    </section>
  );
}
