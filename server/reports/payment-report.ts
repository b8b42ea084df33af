import type { Queryable } from '../db/database.ts';
import type { Period } from './report-queries.ts';

export interface PaymentReportRow {
  repUserId: string | null;
  repName: string;
  status: string;
  currency: string;
  requests: number;
  amountMinor: number;
  paidMinor: number;
  refundedMinor: number;
}

/**
 * The org's payment requests made in the period, per rep, status and currency: how many, what was
 * asked for, what was paid and what was refunded (amounts never summed across currencies).
 */
export async function paymentReport(
  db: Queryable,
  orgId: string,
  period: Period,
): Promise<PaymentReportRow[]> {
  const rows = await db.query<{
    rep_user_id: string | null;
    rep_name: string | null;
    status: string;
    currency: string;
    requests: number;
    amount: string | number;
    paid: string | number;
    refunded: string | number;
  }>(
    `SELECT r.created_by_user_id AS rep_user_id,
            CASE WHEN r.created_by_user_id IS NULL THEN 'API keys' ELSE max(coalesce(u.display_name, u.email, r.created_by_name)) END AS rep_name,
            r.status, r.currency, count(*)::int AS requests, sum(r.amount_minor) AS amount,
            coalesce(sum(r.paid_amount_minor), 0) AS paid, sum(r.refunded_minor) AS refunded
       FROM payment_requests r
       LEFT JOIN users u ON u.id = r.created_by_user_id
      WHERE r.org_id = $1 AND r.created_at >= $2 AND r.created_at < $3
      GROUP BY r.created_by_user_id, r.status, r.currency
      ORDER BY rep_name, r.created_by_user_id, r.status, r.currency`,
    [orgId, period.from, period.to],
  );
  return rows.map((r) => ({
    repUserId: r.rep_user_id,
    repName: r.rep_name ?? '',
    status: r.status,
    currency: r.currency,
    requests: r.requests,
    amountMinor: Number(r.amount),
    paidMinor: Number(r.paid),
    refundedMinor: Number(r.refunded),
  }));
}
