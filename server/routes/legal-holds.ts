import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { LegalHoldAnswer, LegalHoldList, LegalHoldQuery, NewLegalHold } from '../../contract/legal-holds.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { orgPhone } from '../organisations/org-phone.ts';
import { type HoldTarget, listHolds, placeHold, releaseHold } from '../retention/legal-holds.ts';
import { Uuid } from './schemas.ts';

const tags = ['retention'];

/**
 * Legal holds (issue #18): while one is active, retention purges nothing of its contact phone or
 * conversation. Placing and releasing are compliance acts: org.manage (owner and admin), audited.
 */
export const legalHoldsRoutes: RouteModule = (app, deps) => {
  placeHoldRoute(app, deps);
  holdReadAndReleaseRoutes(app, deps);
};

const manage = requires('org.manage');

const placeHoldRoute: RouteModule = (app, { db, clock }) => {
  app.post(
    '/v1/legal-holds',
    {
      config: manage,
      schema: {
        summary: 'Place a legal hold on a contact phone or a conversation',
        description: 'Give exactly one of phone and conversationId. Audited as legal_hold.placed.',
        tags,
        body: NewLegalHold,
        response: { 201: LegalHoldAnswer, ...errorResponses },
        'x-error-codes': ['INVALID_HOLD', 'INVALID_PHONE_NUMBER', 'CONVERSATION_NOT_FOUND'],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { phone, conversationId, reason } = request.body;
      if ((phone === undefined) === (conversationId === undefined))
        throw new ApiError(400, 'INVALID_HOLD', 'Give exactly one of phone and conversationId.', {
          fields: ['phone', 'conversationId'],
        });
      const target: HoldTarget =
        phone !== undefined
          ? { type: 'phone', phone: await orgPhone(db, p.orgId, 'phone', phone) }
          : { type: 'conversation', conversationId: conversationId as string };
      const hold = await placeHold(db, {
        orgId: p.orgId,
        target,
        reason,
        actor: p.actor,
        at: clock(),
        ip: request.ip,
      });
      return reply.code(201).send({ hold });
    },
  );
};

const holdReadAndReleaseRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/legal-holds',
    {
      config: manage,
      schema: {
        summary: "List the organisation's legal holds",
        tags,
        querystring: LegalHoldQuery,
        response: { 200: LegalHoldList, ...errorResponses },
      },
    },
    async (request) => ({
      holds: await listHolds(db, principalOf(request).orgId, request.query.active === true),
    }),
  );

  app.post(
    '/v1/legal-holds/:id/release',
    {
      config: manage,
      schema: {
        summary: 'Release a legal hold',
        description: 'The next retention run may then purge what it held. Audited as legal_hold.released.',
        tags,
        params: Type.Object({ id: Uuid }),
        response: { 200: LegalHoldAnswer, ...errorResponses },
        'x-error-codes': ['HOLD_NOT_FOUND', 'HOLD_ALREADY_RELEASED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const hold = await releaseHold(db, {
        orgId: p.orgId,
        holdId: request.params.id,
        actor: p.actor,
        at: clock(),
        ip: request.ip,
      });
      return { hold };
    },
  );
};
