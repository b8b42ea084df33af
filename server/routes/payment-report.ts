import { errorResponses } from '../../contract/errors.ts';
import { PaymentReportSchema } from '../../contract/reports.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { csvRow } from '../lib/csv.ts';
import { paymentReport } from '../reports/payment-report.ts';
import { auditedCsvExport, jsonOrCsv, PeriodFormatQuery, periodOf } from './reports.ts';

const COLUMNS = [
  'repUserId',
  'repName',
  'status',
  'currency',
  'requests',
  'amountMinor',
  'paidMinor',
  'refundedMinor',
] as const;

/** Payment requests per rep and status (issue #15, item 8): JSON, or CSV that needs export and is audited. */
export const paymentReportRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/reports/payments',
    {
      config: requires('payments.manage'),
      schema: {
        summary: 'Payment requests of a period per rep, status and currency',
        description:
          'How many requests, what was asked for, paid and refunded. format=csv needs the export permission and is audited (export.payment_report).',
        tags: ['reports'],
        querystring: PeriodFormatQuery,
        response: { 200: jsonOrCsv(PaymentReportSchema), ...errorResponses },
        'x-error-codes': ['INVALID_PERIOD', 'FORBIDDEN'],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const period = periodOf(request.query);
      const rows = await paymentReport(db, p.orgId, period);
      if (request.query.format !== 'csv') return reply.send({ rows });
      const csv = [
        csvRow([...COLUMNS]),
        ...rows.map((r) => csvRow(COLUMNS.map((c) => String(r[c] ?? '')))),
      ].join('');
      const headers = await auditedCsvExport(
        { db, clock, p, ip: request.ip },
        { report: 'payment', period, detail: { rows: rows.length } },
      );
      return reply.headers(headers).send(csv);
    },
  );
};
