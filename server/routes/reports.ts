import { Readable } from 'node:stream';
import { type Static, type TSchema, Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import {
  ConsentReportSchema,
  DailyActivitySchema,
  IncidentReportSchema,
  VolumeReportSchema,
} from '../../contract/reports.ts';
import { appendAudit } from '../audit/audit-log.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type Principal, phoneFor, principalOf, requires, textFor } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { csvRow } from '../lib/csv.ts';
import { type ActivityDay, dailyActivity } from '../reports/daily-activity.ts';
import { consentReport, incidents, messageVolume, type Period } from '../reports/report-queries.ts';

const tags = ['reports'];
/** A report covers at most this long: a year and a day, so a whole year fits whatever its start. */
const MAX_DAYS = 367;
const PAGE = 1000;

export const PeriodQuery = {
  from: Type.String({ format: 'date-time', description: 'Inclusive, an ISO instant' }),
  to: Type.String({ format: 'date-time', description: 'Exclusive, an ISO instant' }),
};

/** The period, refused with INVALID_PERIOD when it is empty, reversed or longer than allowed. */
export function periodOf(q: { from: string; to: string }): Period {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (!(to.getTime() > from.getTime()))
    throw new ApiError(400, 'INVALID_PERIOD', '"to" must be later than "from".', { field: 'to' });
  if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000)
    throw new ApiError(
      400,
      'INVALID_PERIOD',
      `A report covers at most ${MAX_DAYS} days; ask for it in parts.`,
      {
        field: 'to',
        maxDays: MAX_DAYS,
      },
    );
  return { from, to };
}

export const CSV = {
  description: 'The rows, streamed as CSV',
  content: { 'text/csv': { schema: Type.String() } },
};

/** A report's query when the whole report is one answer: the period, and JSON or CSV. */
export const PeriodFormatQuery = Type.Object(
  {
    ...PeriodQuery,
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' })),
  },
  { additionalProperties: false },
);

/** The 200 answer of a report that is JSON of this schema or, with format=csv, CSV. */
export const jsonOrCsv = <T extends TSchema>(schema: T) => ({
  ...CSV,
  content: { ...CSV.content, 'application/json': { schema } },
});

/**
 * The start of a report's CSV: refused without the export permission (403 FORBIDDEN), audited as
 * `export.<report>_report` with the period; answers the headers of an attachment no cache keeps.
 */
export async function auditedCsvExport(
  ctx: { db: Database; clock: () => Date; p: Principal; ip: string },
  what: { report: string; period: Period; detail: Record<string, unknown> },
): Promise<Record<string, string>> {
  const { db, clock, p, ip } = ctx;
  const { report, period } = what;
  if (!p.permissions.includes('export'))
    throw new ApiError(403, 'FORBIDDEN', `Exporting the ${report} report needs the export permission.`, {
      permission: 'export',
    });
  await appendAudit(db, {
    orgId: p.orgId,
    actor: p.actor,
    action: `export.${report}_report`,
    target: { type: `${report}_report`, id: p.orgId },
    at: clock(),
    detail: { from: period.from.toISOString(), to: period.to.toISOString(), ...what.detail },
    ip,
  });
  return {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${report}-${period.from.toISOString().slice(0, 10)}.csv"`,
    'cache-control': 'no-store',
  };
}

const CONSENT_COLUMNS = ['occurredAt', 'phone', 'kind', 'source', 'evidence', 'actor', 'actorName'];

/** Every consent change of the period as CSV: numbers and evidence as the caller may see them. */
async function* consentCsv(db: Database, p: Principal, period: Period): AsyncGenerator<string> {
  yield csvRow(CONSENT_COLUMNS);
  let after = 0;
  for (;;) {
    const rows = await consentReport(db, p.orgId, period, { after, limit: PAGE });
    for (const r of rows)
      yield csvRow([
        r.occurredAt,
        phoneFor(p, r.phone),
        r.kind,
        r.source,
        textFor(p, r.evidence),
        r.actor,
        r.actorName,
      ]);
    if (rows.length < PAGE) return;
    after = rows.at(-1)?.id ?? after;
  }
}

const ConsentQuery = Type.Object(
  {
    ...PeriodQuery,
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' })),
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'JSON pages: the previous page’s nextAfter' }),
    ),
  },
  { additionalProperties: false },
);

/** Opt-in / opt-out report: JSON pages, or the whole period as CSV (needs export; audited). */
const consentReportRoute: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/reports/consent',
    {
      config: requires('consent.view'),
      schema: {
        summary: 'Opt-ins and opt-outs of a period: who, when, how, the evidence, who recorded it',
        description:
          'JSON, 1,000 rows a page (pass nextAfter as after), or format=csv for the whole period, which needs the export permission and is itself audited (export.consent_report). Numbers are masked without pii.view.',
        tags,
        querystring: ConsentQuery,
        response: {
          200: jsonOrCsv(ConsentReportSchema),
          ...errorResponses,
        },
        'x-error-codes': ['INVALID_PERIOD', 'FORBIDDEN'],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const period = periodOf(request.query);
      if (request.query.format !== 'csv') {
        const rows = await consentReport(db, p.orgId, period, {
          after: request.query.after ?? 0,
          limit: PAGE,
        });
        return reply.send({
          rows: rows.map((r) => ({ ...r, phone: phoneFor(p, r.phone), evidence: textFor(p, r.evidence) })),
          nextAfter: rows.length === PAGE ? (rows.at(-1)?.id ?? null) : null,
        });
      }
      const headers = await auditedCsvExport(
        { db, clock, p, ip: request.ip },
        { report: 'consent', period, detail: {} },
      );
      return reply.headers(headers).send(Readable.from(consentCsv(db, p, period)) as unknown as string);
    },
  );
};

const VolumeQuery = Type.Object(
  {
    ...PeriodQuery,
    by: Type.Union([Type.Literal('rep'), Type.Literal('number')], { default: 'rep' }),
  },
  { additionalProperties: false },
);

/** Reports for admins and reviewers: consent changes, volume and delivery, compliance incidents. */
export const reportRoutes: RouteModule = (app, deps) => {
  consentReportRoute(app, deps);
  dailyReportRoute(app, deps);

  app.get(
    '/v1/reports/messages',
    {
      config: requires('conversations.view_all'),
      schema: {
        summary: 'Message volume and delivery rate per rep or per sender number',
        description:
          'by=rep counts the texts each rep sent (API keys not bound to a person together); by=number also counts the replies each number received.',
        tags,
        querystring: VolumeQuery,
        response: { 200: VolumeReportSchema, ...errorResponses },
        'x-error-codes': ['INVALID_PERIOD'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const q: Static<typeof VolumeQuery> = request.query;
      return { by: q.by, rows: await messageVolume(deps.db, p.orgId, periodOf(q), q.by) };
    },
  );

  app.get(
    '/v1/reports/incidents',
    {
      config: requires('review.flagged'),
      schema: {
        summary: 'Compliance incidents per day',
        description:
          'Per UTC day: card and similar numbers removed from replies, opt-outs, unclear replies that paused texting, overrides and quiet-hours exceptions.',
        tags,
        querystring: Type.Object(PeriodQuery, { additionalProperties: false }),
        response: { 200: IncidentReportSchema, ...errorResponses },
        'x-error-codes': ['INVALID_PERIOD'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { days: await incidents(deps.db, p.orgId, periodOf(request.query)) };
    },
  );
};

const DAILY_COLUMNS = [
  'day',
  'outbound',
  'inbound',
  'delivered',
  'failed',
  'deliveryRate',
  'optIns',
  'optOuts',
];

function dailyCsv(days: ActivityDay[]): string {
  const cells = (d: ActivityDay) => [
    d.day,
    String(d.outbound),
    String(d.inbound),
    String(d.delivered),
    String(d.failed),
    d.deliveryRate === null ? '' : d.deliveryRate.toFixed(4),
    String(d.optIns),
    String(d.optOuts),
  ];
  return [csvRow(DAILY_COLUMNS), ...days.map((d) => csvRow(cells(d)))].join('');
}

/** Texts, delivery and consent changes per day: the admin console's charts and their CSV. */
const dailyReportRoute: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/reports/daily',
    {
      config: requires('conversations.view_all'),
      schema: {
        summary: 'Texts, delivery rate, opt-ins and opt-outs per day',
        description:
          'Every UTC day of the period, quiet days as zeros. format=csv needs the export permission and is audited (export.daily_report); it holds counts only, no numbers or texts.',
        tags,
        querystring: PeriodFormatQuery,
        response: { 200: jsonOrCsv(DailyActivitySchema), ...errorResponses },
        'x-error-codes': ['INVALID_PERIOD', 'FORBIDDEN'],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const period = periodOf(request.query);
      if (request.query.format !== 'csv') return { days: await dailyActivity(db, p.orgId, period) };
      const headers = await auditedCsvExport(
        { db, clock, p, ip: request.ip },
        { report: 'daily', period, detail: {} },
      );
      const days = await dailyActivity(db, p.orgId, period);
      return reply.headers(headers).send(dailyCsv(days));
    },
  );
};
