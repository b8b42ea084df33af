import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { PaymentReportSchema } from '../../contract/reports.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { csvRow } from '../lib/csv.ts';
import { paymentReport } from '../reports/payment-report.ts';
import { CSV, PeriodQuery, periodOf } from './reports.ts';

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
        querystring: Type.Object(
          {
            ...PeriodQuery,
            format: Type.Optional(
              Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: { ...CSV, content: { ...CSV.content, 'application/json': { schema: PaymentReportSchema } } },
          ...errorResponses,
        },
        'x-error-codes': ['INVALID_PERIOD', 'FORBIDDEN'],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const period = periodOf(request.query);
      const rows = await paymentReport(db, p.orgId, period);
      if (request.query.format !== 'csv') return reply.send({ rows });
      if (!p.permissions.includes('export'))
        throw new ApiError(403, 'FORBIDDEN', 'Exporting the payment report needs the export permission.', {
          permission: 'export',
        });
      await appendAudit(db, {
        orgId: p.orgId,
        actor: p.actor,
        action: 'export.payment_report',
        target: { type: 'payment_report', id: p.orgId },
        at: clock(),
        detail: { from: period.from.toISOString(), to: period.to.toISOString(), rows: rows.length },
        ip: request.ip,
      });
      const csv = [
        csvRow([...COLUMNS]),
        ...rows.map((r) => csvRow(COLUMNS.map((c) => String(r[c] ?? '')))),
      ].join('');
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="payments-${period.from.toISOString().slice(0, 10)}.csv"`,
        )
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );
};
