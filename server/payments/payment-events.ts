import { appendAudit } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { holdRequest } from './payment-guards.ts';
import {
  type Checkout,
  type PaymentEvent,
  type PaymentProvider,
  PaymentProviderError,
} from './payment-provider.ts';
import { readPaymentSettings } from './payment-settings.ts';
import { isPaid, OPEN_STATUSES, type PaymentStatus } from './payment-status.ts';
import {
  type PaymentFields,
  type PaymentRequestRow,
  paymentById,
  paymentForEvent,
  updatePayment,
} from './payment-store.ts';

/** Keeps a verified event once (a provider's duplicate delivery changes nothing). */
export async function enqueuePaymentEvent(
  db: Queryable,
  provider: string,
  event: PaymentEvent,
  at: Date,
): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO payment_webhook_events (provider, event_id, kind, event, received_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (provider, event_id) DO NOTHING RETURNING event_id`,
    [provider, event.id, event.kind, JSON.stringify(event), at],
  );
  return rows.length > 0;
}

interface QueuedEvent {
  provider: string;
  event_id: string;
  event: PaymentEvent;
  attempts: number;
  received_at: Date;
}

/** What apply() returns for an event that must wait for another to be processed first. */
const WAIT = 'waiting for the payment it follows';
/** How long such an event waits (Stripe retries and reorders deliveries for up to three days). */
const WAIT_LIMIT_MS = 3 * 86_400_000;

/** After this many failed attempts an event stays in the table with its error, for a person to look at. */
const MAX_ATTEMPTS = 10;

/**
 * Processes queued payment events oldest first. Events arrive late, twice and in any order, so
 * each is applied by reading the checkout as the provider holds it now, and payment-status.ts
 * only lets a request move forward.
 */
export class PaymentEventProcessor {
  /** Checkouts of links held for card testing, closed at the provider once the hold is committed. */
  private closeAfterCommit: string[] = [];

  constructor(
    private readonly db: Database,
    private readonly provider: PaymentProvider,
    private readonly clock: Clock,
  ) {}

  /**
   * Processes every pending event; returns how many were handled. The provider is asked outside
   * any transaction (an HTTP call never holds a database lock, and PGlite has one connection);
   * the result is applied in a transaction that re-checks the event is still unprocessed, so two
   * relays processing the same event apply it once. An event that fails (the provider
   * unreachable) keeps its place with the error and a count, and ends this pass.
   */
  async drain(): Promise<number> {
    let handled = 0;
    // Events that wait for another (a refund before its payment) are skipped for the rest of the pass.
    const waiting: string[] = [];
    for (;;) {
      const [queued] = await this.db.query<QueuedEvent>(
        `SELECT provider, event_id, event, attempts, received_at FROM payment_webhook_events
          WHERE processed_at IS NULL AND attempts < ${MAX_ATTEMPTS} AND event_id <> ALL($1::text[])
          ORDER BY received_at, event_id LIMIT 1`,
        [waiting],
      );
      if (queued === undefined) return handled;
      let checkout: Checkout | null;
      try {
        checkout = await this.checkoutOf(queued.event);
      } catch (error) {
        // A refusal will not change on a retry (a checkout the provider does not know): the event
        // is closed with the reason. An outage keeps it queued for the next pass.
        const final = error instanceof PaymentProviderError && !error.retryable;
        await this.db.query(
          `UPDATE payment_webhook_events SET attempts = attempts + 1, last_error = $3,
                  processed_at = CASE WHEN $4::boolean THEN $5::timestamptz END
            WHERE provider = $1 AND event_id = $2`,
          [queued.provider, queued.event_id, String(error).slice(0, 500), final, this.clock()],
        );
        if (final) continue;
        throw error;
      }
      await this.db.transaction(async (tx) => {
        const [still] = await tx.query(
          `SELECT 1 FROM payment_webhook_events WHERE provider = $1 AND event_id = $2 AND processed_at IS NULL FOR UPDATE`,
          [queued.provider, queued.event_id],
        );
        if (still === undefined) return;
        const note = await this.apply(tx, queued.event, checkout);
        if (note === WAIT && this.clock().getTime() - queued.received_at.getTime() < WAIT_LIMIT_MS) {
          waiting.push(queued.event_id);
          await tx.query(
            `UPDATE payment_webhook_events SET last_error = $3 WHERE provider = $1 AND event_id = $2`,
            [queued.provider, queued.event_id, 'waiting for the payment it follows'],
          );
          return;
        }
        await tx.query(
          `UPDATE payment_webhook_events SET processed_at = $3, attempts = attempts + 1, last_error = $4
            WHERE provider = $1 AND event_id = $2`,
          [queued.provider, queued.event_id, this.clock(), note],
        );
      });
      handled += 1;
      await this.closeHeldCheckouts();
    }
  }

  private async closeHeldCheckouts(): Promise<void> {
    const ids = this.closeAfterCommit.splice(0);
    for (const id of ids) {
      try {
        await this.provider.expireCheckout(id);
      } catch {
        // best effort: the hold already refuses a new checkout, and this one lapses within the hour.
      }
    }
  }

  /** The checkout an event is about, as the provider reports it now (null when none is named). */
  private async checkoutOf(event: PaymentEvent): Promise<Checkout | null> {
    if (event.kind === 'ignored') return null;
    const found = await paymentForEvent(this.db, event);
    if (found === null) return null;
    const checkoutId = event.checkoutId ?? found.checkout_id;
    return checkoutId === null ? null : this.provider.getCheckout(checkoutId);
  }

  /** Applies one event; returns a note when it changed nothing for a reason worth keeping. */
  private async apply(tx: Queryable, event: PaymentEvent, checkout: Checkout | null): Promise<string | null> {
    if (event.kind === 'ignored') return null;
    const found = await paymentForEvent(tx, event);
    // A refund or dispute may arrive before the payment that names its payment id was recorded.
    if (found === null)
      return event.requestId === null && event.paymentId !== null
        ? WAIT
        : 'no payment request matches this event';
    if (checkout !== null && checkout.requestId !== null && checkout.requestId !== found.id)
      return `checkout ${checkout.id} belongs to request ${checkout.requestId}, not ${found.id}`;
    let row = checkout === null ? found : await this.syncCheckout(tx, found, checkout, event.kind);
    if (event.kind === 'refunded' && event.amountRefunded !== null && event.amountCharged !== null) {
      const refunded = Math.max(Number(row.refunded_minor), event.amountRefunded);
      const next: PaymentStatus = refunded >= event.amountCharged ? 'refunded' : 'partially_refunded';
      row = await this.update(tx, row, next, { refunded_minor: refunded }, { amountRefunded: refunded });
    }
    if (event.kind === 'dispute_created') row = await this.update(tx, row, 'disputed', {}, {});
    if (event.kind === 'payment_failed') await this.failedAttempt(tx, row, event.id);
    return null;
  }

  /**
   * Counts a failed card attempt on the link; more than the org allows in a row is card testing:
   * the link is held (no new checkout) and its open checkout is closed after this transaction.
   */
  private async failedAttempt(tx: Queryable, row: PaymentRequestRow, eventId: string): Promise<void> {
    const [counted] = await tx.query<{ failed_attempts: number }>(
      'UPDATE payment_requests SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts',
      [row.id],
    );
    const failed = counted?.failed_attempts ?? 0;
    const settings = await readPaymentSettings(tx, row.org_id);
    if (failed <= settings.holdFailedAttempts || !OPEN_STATUSES.includes(row.status)) return;
    const holdId = await holdRequest(
      tx,
      row,
      'card_testing',
      { failedAttempts: failed, eventId },
      this.clock(),
    );
    if (holdId === null) return;
    await appendAudit(tx, {
      orgId: row.org_id,
      actor: 'system:payment-guards',
      action: 'payment.held',
      target: { type: 'payment_request', id: row.id },
      at: this.clock(),
      detail: { holdId, reason: 'card_testing', failedAttempts: failed },
    });
    if (row.checkout_id === null) return;
    // The open checkout is closed at the provider after the commit; a release starts a new one.
    this.closeAfterCommit.push(row.checkout_id);
    await this.update(
      tx,
      row,
      undefined,
      { checkout_id: null, checkout_url: null, checkout_expires_at: null },
      {},
    );
  }

  /** Brings the request in line with the checkout as the provider reports it now. */
  private async syncCheckout(
    tx: Queryable,
    row: PaymentRequestRow,
    checkout: Checkout,
    kind: PaymentEvent['kind'],
  ): Promise<PaymentRequestRow> {
    const checkoutId = checkout.id;
    if (checkout.status === 'complete' && checkout.paymentStatus !== 'unpaid')
      return this.update(tx, row, 'paid', paidFields(row, checkout), { checkoutId });
    if (checkout.status === 'complete') {
      const next: PaymentStatus = kind === 'async_payment_failed' ? 'failed' : 'processing';
      return this.update(tx, row, next, { payment_id: checkout.paymentId }, { checkoutId });
    }
    if (checkout.status === 'expired' && row.checkout_id === checkout.id) {
      // Only this attempt lapsed: the link itself may still be paid, with a new checkout.
      return this.update(
        tx,
        row,
        undefined,
        { checkout_id: null, checkout_url: null, checkout_expires_at: null },
        {},
      );
    }
    return row;
  }

  /** One change, retried against the row as it now is if another writer moved it first. */
  private async update(
    tx: Queryable,
    row: PaymentRequestRow,
    next: PaymentStatus | undefined,
    fields: PaymentFields,
    detail: Record<string, unknown>,
  ): Promise<PaymentRequestRow> {
    let current = row;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const updated = await updatePayment(tx, current, { next, fields, detail, at: this.clock() });
      if (updated !== null) return updated;
      current = (await paymentById(tx, row.org_id, row.id)) ?? current;
    }
    throw new Error(`payment request ${row.id} kept changing under the event processor`);
  }
}

/**
 * What a completed checkout records: the amount and currency paid, the card's brand and last 4,
 * and a reason to review when the amount differs from the request or the link was already closed
 * (the money moved, so it is recorded, never silently accepted).
 */
function paidFields(row: PaymentRequestRow, checkout: Checkout): PaymentFields {
  const asked = Number(row.amount_minor);
  const paid = checkout.amountTotal;
  const mismatch = paid !== asked || (checkout.currency ?? '').toLowerCase() !== row.currency;
  const closed = !isPaid(row.status) && (row.status === 'expired' || row.status === 'canceled');
  const review = mismatch
    ? `amount_mismatch: asked ${asked} ${row.currency}, paid ${paid ?? 'unknown'} ${checkout.currency ?? ''}`.trim()
    : closed
      ? `paid_after_${row.status}`
      : row.review_reason;
  return {
    payment_id: checkout.paymentId,
    paid_amount_minor: paid,
    paid_currency: checkout.currency,
    card_brand: checkout.card?.brand ?? null,
    card_last4: checkout.card?.last4 ?? null,
    review_reason: review,
  };
}
