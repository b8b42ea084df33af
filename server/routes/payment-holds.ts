import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { PaymentHoldAnswerSchema, PaymentHoldListSchema } from '../../contract/payments.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { releaseHold } from '../payments/hold-release.ts';
import { holdById, holdDto, listHolds } from '../payments/payment-queries.ts';
import { OpenOrAllPageQuery, Uuid } from './schemas.ts';

const tags = ['payments'];

/**
 * The guards' holds (issue #15, item 6): a manager sees what was stopped and why, and releases a
 * hold once they have looked. Releasing an approval hold lets that rep ask that customer for up to
 * the held amount within a day; releasing a card-testing hold lets the link take payment again.
 */
export const paymentHoldRoutes: RouteModule = (app, deps) => {
  holdListRoute(app, deps);
  holdReleaseRoute(app, deps);
};

const holdListRoute: RouteModule = (app, deps) => {
  const { db } = deps;
  app.get(
    '/v1/payment-holds',
    {
      config: requires('payments.manage'),
      schema: {
        summary: 'List payment holds',
        description: 'Newest first; open holds only unless state=all.',
        tags,
        querystring: OpenOrAllPageQuery,
        response: { 200: PaymentHoldListSchema, ...errorResponses },
        'x-error-codes': ['INVALID_CURSOR'],
      },
    },
    async (request) => {
      const { state, cursor, limit } = request.query;
      return listHolds(db, principalOf(request), {
        open: state !== 'all',
        cursor: cursor ?? null,
        limit: limit ?? 50,
      });
    },
  );
};

const holdReleaseRoute: RouteModule = (app, deps) => {
  const { db } = deps;
  app.post(
    '/v1/payment-holds/:id/release',
    {
      config: requires('payments.manage'),
      schema: {
        summary: 'Release a payment hold',
        description: 'Recorded with who released it, when and why (the note), in the hold and the audit log.',
        tags,
        params: Type.Object({ id: Uuid }),
        body: Type.Object(
          {
            note: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 500,
                pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]+$',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: PaymentHoldAnswerSchema, ...errorResponses },
        'x-error-codes': ['HOLD_NOT_FOUND', 'HOLD_ALREADY_RELEASED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const held = await holdById(db, p, request.params.id);
      if (held === null)
        throw new ApiError(404, 'HOLD_NOT_FOUND', 'No such payment hold in your organisation.');
      await releaseHold(db, {
        orgId: p.orgId,
        holdId: held.id,
        actor: p.actor,
        note: request.body?.note ?? null,
        at: deps.clock(),
        ip: request.ip,
      });
      return { hold: holdDto(p, (await holdById(db, p, held.id)) ?? held) };
    },
  );
};
