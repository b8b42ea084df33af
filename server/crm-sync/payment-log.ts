import { CrmError } from '../../crm-plugins/errors.ts';
import type { ContactRef, CrmPayment, CrmPaymentStatus, RecordedPayment } from '../../crm-plugins/types.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { openPaymentRow } from '../payments/payment-details.ts';
import { phoneNumber } from '../stores/phone-columns.ts';
import type { CrmConnection } from './connections.ts';
import type { ContactRefs } from './contact-refs.ts';
import type { CrmCall } from './live-plugins.ts';
import { itemFailure, type JobFailure, type JobRow, type SyncJobs } from './sync-jobs.ts';

export interface PaymentLogOptions {
  db: Database;
  jobs: SyncJobs;
  refs: ContactRefs;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The relay's clock (server/clock.ts): when an entry was written. */
  clock: Clock;
}

/** A payment request with what its CRM entry needs, read for one connection's org only. */
interface PaymentInfo {
  id: string;
  org_id: string;
  details_key: number | null;
  status: CrmPaymentStatus;
  amount_minor: string | number;
  currency: string;
  description: string;
  reference: string | null;
  card_brand: string | null;
  card_last4: string | null;
  refunded_minor: string | number;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
  paid_at: Date | null;
  contact_phone: string;
  crm: string | null;
  crm_object: 'contact' | 'lead' | null;
  crm_id: string | null;
  entry_id: string | null;
}

/** Jobs claimed per round: each is one CRM write or two (the entry, and a deal). */
const ROUND = 50;

/**
 * Payment requests on the CRM records of their contacts (issue #15 item 5): each queued 'payment'
 * job (payment-jobs.ts) becomes one recordPayment call with the request as it is now, so the
 * plugin creates the request's one entry or rewrites it. A CRM outage or refusal fails the job,
 * retried with backoff until it ends as a dead letter; throttling halts the connection's pass.
 */
export class PaymentLog {
  constructor(private readonly options: PaymentLogOptions) {}

  /** Runs a bounded number of rounds per lease, so other connections get their turn. */
  async dispatch(connection: CrmConnection, call: CrmCall, stopped: () => boolean): Promise<void> {
    for (let round = 0; round < 10 && !stopped(); round++) {
      const claimed = await this.options.jobs.claim(connection, ['payment'], ROUND);
      if (claimed.length === 0) return;
      for (const job of claimed) await this.write(connection, call, job);
    }
  }

  private async write(connection: CrmConnection, call: CrmCall, job: JobRow): Promise<void> {
    const { jobs } = this.options;
    const info = await this.paymentOf(connection, job.subject);
    if (info === null) {
      await jobs.finish([job.id], 'no such payment request in this organisation');
      return;
    }
    const ref = await this.recordFor(connection, call, info);
    if (ref === null) {
      await jobs.finish([job.id], 'no CRM record to log on');
      return;
    }
    let recorded: RecordedPayment;
    try {
      recorded = await call((p) => p.recordPayment(toCrmPayment(info, ref)));
    } catch (error) {
      const failure = paymentFailure(error);
      // Throttling, an expired token or a missing permission stops the connection's pass (the job
      // goes back unharmed); anything else fails this job: retried with backoff, or a dead letter.
      if (failure === null) throw error;
      await jobs.fail(connection, job, failure);
      return;
    }
    await this.options.db.query(
      `INSERT INTO crm_payment_entries (connection_id, request_id, entry_id, status, deal_id, written_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (connection_id, request_id)
       DO UPDATE SET entry_id = EXCLUDED.entry_id, status = EXCLUDED.status, deal_id = EXCLUDED.deal_id,
                     written_at = EXCLUDED.written_at`,
      [
        connection.id,
        info.id,
        recorded.entryId,
        info.status,
        recorded.deal?.updated ? recorded.deal.id : null,
        this.options.clock(),
      ],
    );
    await jobs.finish(
      [job.id],
      recorded.deal !== null && !recorded.deal.updated
        ? `deal ${recorded.deal.id} not found or not writable`
        : null,
    );
  }

  /** The request, only if it belongs to the connection's org (a job never crosses orgs). */
  private async paymentOf(connection: CrmConnection, requestId: string): Promise<PaymentInfo | null> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    if (!uuid.test(requestId)) return null;
    const rows = await this.options.db.query<PaymentInfo>(
      `SELECT p.id, p.org_id, p.details_key, p.status, p.amount_minor, p.currency, p.description, p.reference,
              p.card_brand, p.card_last4,
              p.refunded_minor, p.expires_at, p.created_at, p.updated_at, v.contact_phone, c.crm, c.crm_object, c.crm_id,
              (SELECT min(e.occurred_at) FROM payment_status_events e WHERE e.request_id = p.id AND e.status = 'paid') AS paid_at,
              (SELECT x.entry_id FROM crm_payment_entries x WHERE x.connection_id = $3 AND x.request_id = p.id) AS entry_id
         FROM payment_requests p JOIN conversations v ON v.id = p.conversation_id AND v.org_id = p.org_id
         LEFT JOIN contacts c ON c.id = v.contact_id AND c.org_id = p.org_id
        WHERE p.id = $1 AND p.org_id = $2`,
      [requestId, connection.orgId, connection.id],
    );
    const row = await openPaymentRow(this.options.db, rows[0]);
    return row === null ? null : { ...row, contact_phone: phoneNumber(this.options.db, row.contact_phone) };
  }

  /** The record the entry goes on: the conversation's contact's, else the number's first record. */
  private async recordFor(
    connection: CrmConnection,
    call: CrmCall,
    info: PaymentInfo,
  ): Promise<ContactRef | null> {
    if (info.crm === connection.crm && info.crm_object !== null && info.crm_id !== null)
      return { crm: connection.crm, objectType: info.crm_object, id: info.crm_id };
    return (await this.options.refs.forPhone(connection, call, info.contact_phone))[0] ?? null;
  }
}

/**
 * Why one payment write failed, or null to stop the pass. Payment fields missing from a CRM
 * connected before this feature (install not run again) fail the job with retries, not the
 * connection: its texts and consent keep syncing while an admin runs `crm install`.
 */
function paymentFailure(error: unknown): JobFailure | null {
  if (error instanceof CrmError && error.code === 'not_installed')
    return { code: error.code, message: `${error.message} (run crm install)`, retryable: true };
  return itemFailure(error);
}

function toCrmPayment(info: PaymentInfo, contact: ContactRef): CrmPayment {
  return {
    requestId: info.id,
    contact,
    status: info.status,
    amountMinor: Number(info.amount_minor),
    currency: info.currency,
    description: info.description,
    reference: info.reference,
    card:
      info.card_brand === null || info.card_last4 === null
        ? null
        : { brand: info.card_brand, last4: info.card_last4 },
    paidAt: info.paid_at,
    expiresAt: info.expires_at,
    refundedMinor: Number(info.refunded_minor),
    createdAt: info.created_at,
    updatedAt: info.updated_at,
    entryId: info.entry_id,
  };
}
