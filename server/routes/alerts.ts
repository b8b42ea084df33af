import { Type } from 'typebox';
import { AlertAnswerSchema, AlertListSchema } from '../../contract/alerts.ts';
import { errorResponses } from '../../contract/errors.ts';
import { listAlerts, resolveAlert } from '../anomalies/alert-queries.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { OpenOrAllPageQuery, Uuid } from './schemas.ts';

const tags = ['alerts'];

/**
 * Anomaly alerts (issue #18, item 6): hours of sending far above their baseline, per rep and for
 * the org. An admin (users.manage) lists them and resolves each with a note; resolving an alert
 * that paused a rep lets them send again unless told otherwise.
 */
export const alertRoutes: RouteModule = (app, deps) => {
  const { db } = deps;
  app.get(
    '/v1/alerts',
    {
      config: requires('users.manage'),
      schema: {
        summary: 'List anomaly alerts',
        description: 'Newest first; open alerts only unless state=all.',
        tags,
        querystring: OpenOrAllPageQuery,
        response: { 200: AlertListSchema, ...errorResponses },
        'x-error-codes': ['INVALID_CURSOR'],
      },
    },
    async (request) => {
      const { state, cursor, limit } = request.query;
      return listAlerts(db, principalOf(request).orgId, {
        open: state !== 'all',
        cursor: cursor ?? null,
        limit: limit ?? 50,
      });
    },
  );

  app.post(
    '/v1/alerts/:id/resolve',
    {
      config: requires('users.manage'),
      schema: {
        summary: 'Resolve an anomaly alert',
        description:
          'Recorded with who, when and why (the note) in the alert and the audit log. A rep the alert paused may send again, unless resume is false.',
        tags,
        params: Type.Object({ id: Uuid }),
        body: Type.Optional(
          Type.Object(
            {
              note: Type.Optional(
                Type.String({
                  minLength: 1,
                  maxLength: 500,
                  pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]+$',
                }),
              ),
              resume: Type.Optional(Type.Boolean({ default: true })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: AlertAnswerSchema, ...errorResponses },
        'x-error-codes': ['ALERT_NOT_FOUND', 'ALERT_ALREADY_RESOLVED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const alert = await resolveAlert(db, {
        orgId: p.orgId,
        alertId: request.params.id,
        actor: p.actor,
        note: request.body?.note ?? null,
        resume: request.body?.resume !== false,
        at: deps.clock(),
        ip: request.ip,
      });
      return { alert };
    },
  );
};
