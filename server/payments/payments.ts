import type { Clock } from '../clock.ts';
import { parseOrgSettings } from '../compliance/org-settings.ts';
import type { Database, Queryable } from '../db/database.ts';
import { CoalescingRunner } from '../lib/coalescing-runner.ts';
import type { HoldAlerts } from './hold-alerts.ts';
import { openPaymentRows } from './payment-details.ts';
import { PaymentEventProcessor } from './payment-events.ts';
import { requestHeld } from './payment-guards.ts';
import { linkToken, linkUrl, tokenHash } from './payment-links.ts';
import type { PaymentProvider } from './payment-provider.ts';
import { readPaymentSettings } from './payment-settings.ts';
import { OPEN_STATUSES } from './payment-status.ts';
import { type PaymentRequestRow, updatePayment } from './payment-store.ts';

/** How often open links are checked for expiry when nothing else wakes the sweep. */
const SWEEP_MS = 60_000;
/** A provider checkout is reused only while it has at least this long left. */
const CHECKOUT_REUSE_MARGIN_MS = 5 * 60_000;
/** Stripe takes checkout expiries from 30 minutes to 24 hours after creation. */
const CHECKOUT_MIN_MS = 31 * 60_000;
const CHECKOUT_MAX_MS = 23 * 3_600_000;

/**
 * The payment side of the relay: its provider, link tokens, the event queue, the expiry sweep and
 * the managers' hold alerts.
 */
export class Payments {
  private readonly processor: PaymentEventProcessor;
  private readonly runner: CoalescingRunner;
  private timer: NodeJS.Timeout | null = null;
  private alerts: HoldAlerts | null = null;

  constructor(
    readonly provider: PaymentProvider,
    private readonly db: Database,
    private readonly clock: Clock,
    /** The installation's secret link tokens are derived under (instance_secrets). */
    private readonly linkSecret: string,
    private readonly log: (message: string) => void,
  ) {
    this.processor = new PaymentEventProcessor(db, provider, clock);
    this.runner = new CoalescingRunner(
      () => this.pass(),
      (error) => this.log(`payment events: ${String(error)}`),
    );
  }

  /** The link token of a request (derived, never stored). */
  async tokenFor(requestId: string): Promise<string> {
    return linkToken(this.linkSecret, requestId);
  }

  /** The origin links are written with: the org's branded domain, else the relay's PUBLIC_URL. */
  async linkFor(db: Queryable, orgId: string, requestId: string, publicUrl: string): Promise<string> {
    const settings = await readPaymentSettings(db, orgId);
    return linkUrl(settings.linkBaseUrl ?? publicUrl, await this.tokenFor(requestId));
  }

  readonly hashOf = tokenHash;

  start(): void {
    this.timer = setInterval(() => this.runner.wake(), SWEEP_MS);
    this.timer.unref();
    this.runner.wake();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.runner.stop();
  }

  /** Processes queued events soon (after a webhook was stored). */
  wake(): void {
    this.runner.wake();
  }

  /** Mails the org's managers about each new hold, from the next pass on (the app's mail transport). */
  alertHoldsWith(alerts: HoldAlerts): void {
    this.alerts = alerts;
  }

  /** Processes every queued event, expires lapsed links and sends due hold alerts now (tests, the CLI). */
  drain(): Promise<void> {
    return this.pass();
  }

  private async pass(): Promise<void> {
    await this.processor.drain();
    await this.expireLapsed();
    await this.alerts?.sendDue();
  }

  /**
   * A checkout to send the customer to: the open one while it has time left, else a new one
   * (one idempotency key per attempt, so two clicks make one checkout). Null when the link no
   * longer takes payment.
   */
  async checkoutFor(
    row: PaymentRequestRow,
    links: { success: string; cancel: string },
  ): Promise<string | null> {
    const now = this.clock();
    if (!OPEN_STATUSES.includes(row.status)) return null;
    // Card testing put the link on hold: no new checkout until a manager releases it.
    if (await requestHeld(this.db, row.id)) return null;
    if (row.expires_at.getTime() <= now.getTime()) {
      await this.expire(row);
      return null;
    }
    const reusable =
      row.checkout_url !== null &&
      row.checkout_expires_at !== null &&
      row.checkout_expires_at.getTime() - now.getTime() > CHECKOUT_REUSE_MARGIN_MS;
    if (reusable) return row.checkout_url;
    const attempt = row.attempts + 1;
    const left = row.expires_at.getTime() - now.getTime();
    const lifetime = Math.min(Math.max(left, CHECKOUT_MIN_MS), CHECKOUT_MAX_MS);
    const org = await this.db.query<{ name: string; settings: unknown }>(
      'SELECT name, settings FROM orgs WHERE id = $1',
      [row.org_id],
    );
    const checkout = await this.provider.createCheckout({
      requestId: row.id,
      orgId: row.org_id,
      amountMinor: Number(row.amount_minor),
      currency: row.currency,
      description: row.description,
      reference: row.reference,
      businessName: parseOrgSettings(org[0]?.name ?? '', org[0]?.settings).identificationName,
      successUrl: links.success,
      cancelUrl: links.cancel,
      expiresAt: new Date(now.getTime() + lifetime),
      idempotencyKey: `payment-request:${row.id}:attempt:${attempt}`,
    });
    const updated = await this.db.transaction((tx) =>
      updatePayment(tx, row, {
        next: 'checkout_started',
        fields: {
          checkout_id: checkout.id,
          checkout_url: checkout.url,
          checkout_expires_at: checkout.expiresAt,
          attempts: attempt,
        },
        detail: { attempt },
        at: now,
      }),
    );
    // Another click won the race: both made the same checkout (same idempotency key) or its own.
    return updated?.checkout_url ?? checkout.url;
  }

  /** Marks a link that lapsed unpaid as expired and stops its open checkout taking payment. */
  async expire(row: PaymentRequestRow): Promise<void> {
    if (row.checkout_id !== null) {
      const checkout = await this.provider.expireCheckout(row.checkout_id);
      // Paid just now: the provider's event records it; the link is not expired after all.
      if (checkout.status === 'complete') return;
    }
    await this.db.transaction((tx) =>
      updatePayment(tx, row, {
        next: 'expired',
        fields: { checkout_url: null },
        detail: { reason: 'link expired' },
        at: this.clock(),
      }),
    );
  }

  /** Expires every open link past its time (bounded per pass). */
  private async expireLapsed(): Promise<void> {
    const rows = await this.db.query<PaymentRequestRow>(
      `SELECT * FROM payment_requests WHERE status IN ('sent', 'opened', 'checkout_started') AND expires_at <= $1
        ORDER BY expires_at LIMIT 200`,
      [this.clock()],
    );
    for (const row of await openPaymentRows(this.db, rows)) await this.expire(row);
  }
}
