import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { AuditExportQuery, AuditPage, AuditQuery, AuditVerdict } from '../../contract/audit.ts';
import { errorResponses } from '../../contract/errors.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { auditPage, decodeAuditCursor, exportLines, parseAuditFilter } from '../audit/audit-queries.ts';
import { verifyOrgChain } from '../audit/audit-verify.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

const tags = ['audit'];

const ExportBody = {
  description: 'The entries, streamed',
  content: {
    'text/csv': { schema: Type.String() },
    'application/x-ndjson': { schema: Type.String() },
  },
};

/** The org's hash-chained audit log: read a page, or export it whole (itself an audited act). */
export const auditRoutes: RouteModule = (app, deps) => {
  auditVerifyRoute(app, deps);
  const { db, clock } = deps;
  app.get(
    '/v1/audit',
    {
      config: requires('audit.view'),
      schema: {
        summary: "Page through the organisation's audit log",
        description:
          "Newest first; only the caller's organisation. Filters: from (inclusive), to (exclusive), actor, action.",
        tags,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errorResponses },
        'x-error-codes': ['INVALID_FILTER', 'INVALID_CURSOR'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const filter = parseAuditFilter(request.query);
      const before = request.query.cursor === undefined ? null : decodeAuditCursor(request.query.cursor);
      return auditPage(db, p.orgId, filter, { before, limit: request.query.limit ?? 100 });
    },
  );

  app.get(
    '/v1/audit/export',
    {
      // Reading the log is audit.view; taking a copy away needs export as well (a manager
      // exports opt-in reports but does not read the audit log).
      config: requires('audit.view'),
      schema: {
        summary: "Export the organisation's audit log as CSV or JSON lines",
        description:
          "Needs audit.view and export. Oldest first, with each entry's hashes so the chain can be checked offline. The export is itself recorded (export.audit).",
        tags,
        querystring: AuditExportQuery,
        response: { 200: ExportBody, ...errorResponses },
        'x-error-codes': ['INVALID_FILTER', 'FORBIDDEN'],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (!p.permissions.includes('export'))
        throw new ApiError(403, 'FORBIDDEN', 'Exporting the audit log needs the export permission.', {
          permission: 'export',
        });
      const format = request.query.format ?? 'csv';
      if (format !== 'csv' && format !== 'jsonl')
        throw new ApiError(400, 'INVALID_FILTER', 'format must be csv or jsonl.', { field: 'format' });
      const filter = parseAuditFilter(request.query);
      const { from, to, actor, action } = request.query;
      await appendAudit(db, {
        orgId: p.orgId,
        actor: p.actor,
        action: 'export.audit',
        target: { type: 'audit_log', id: p.orgId },
        at: clock(),
        detail: { format, filter: { from, to, actor, action } },
        ip: request.ip,
      });
      const stamp = clock().toISOString().slice(0, 10);
      return (
        reply
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="audit-${stamp}.${format}"`)
          .header('cache-control', 'no-store')
          // Fastify streams a Readable; the type provider only knows the schema's string body.
          .send(Readable.from(exportLines(db, p.orgId, filter, format)) as unknown as string)
      );
    },
  );
};

/** The chain check an auditor runs from the API, as the CLI's `audit verify` does. */
const auditVerifyRoute: RouteModule = (app, { db }) => {
  app.get(
    '/v1/audit/verify',
    {
      config: requires('audit.view'),
      schema: {
        summary: "Check the organisation's audit chain",
        description:
          'Walks every entry in order and checks each hash against the one before and the recorded head, as `npm run cli -- audit verify` does; the first break found is named.',
        tags,
        response: { 200: AuditVerdict, ...errorResponses },
      },
    },
    async (request) => {
      const verdict = await verifyOrgChain(db, principalOf(request).orgId);
      return {
        entries: verdict.entries,
        headHash: verdict.headHash,
        intact: verdict.broken === null,
        broken: verdict.broken,
      };
    },
  );
};
