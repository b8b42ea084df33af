import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { ReviewDecidedSchema, ReviewListSchema } from '../../contract/review.ts';
import { ApiError } from '../errors.ts';
import { phoneFor, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { decideReview, listReviews } from '../stores/consent-store.ts';
import { Uuid } from './schemas.ts';

/**
 * Flagged inbound texts ("not interested anymore"): texting that number is paused
 * (PAUSED_FOR_REVIEW) until someone with `review.flagged` decides it was an opt-out or not.
 */
export const reviewRoutes: RouteModule = (app, { db, notifier, clock }) => {
  app.get(
    '/v1/reviews',
    {
      config: requires('review.flagged'),
      schema: {
        summary: 'List flagged inbound texts',
        description:
          'Texts that may be opt-outs ("not interested anymore"); texting the number is paused until decided.',
        tags: ['review'],
        response: { 200: ReviewListSchema, ...errorResponses },
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([Type.Literal('open'), Type.Literal('decided'), Type.Literal('all')]),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const reviews = await listReviews(
        db,
        principal.orgId,
        request.query.status ?? 'open',
        request.query.limit ?? 50,
      );
      return { reviews: reviews.map((r) => ({ ...r, phone: phoneFor(principal, r.phone) })) };
    },
  );

  app.post(
    '/v1/reviews/:id/decide',
    {
      config: requires('review.flagged'),
      schema: {
        summary: 'Decide a flagged text',
        description: 'opt_out records an opt-out (and fails queued texts); keep lifts the pause.',
        tags: ['review'],
        response: { 200: ReviewDecidedSchema, ...errorResponses },
        'x-error-codes': ['REVIEW_NOT_FOUND', 'REVIEW_ALREADY_DECIDED'],
        params: Type.Object({ id: Uuid }),
        body: Type.Object(
          {
            decision: Type.Union([Type.Literal('opt_out'), Type.Literal('keep')]),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const note = request.body.note?.trim() || null;
      const result = await decideReview(db, {
        orgId: principal.orgId,
        id: request.params.id,
        decision: request.body.decision,
        actor: principal.actor,
        note,
        at: clock(),
      });
      if (result.kind === 'not_found') {
        throw new ApiError(404, 'REVIEW_NOT_FOUND', 'No such review in your organisation.');
      }
      if (result.kind === 'already_decided') {
        throw new ApiError(409, 'REVIEW_ALREADY_DECIDED', 'This review was already decided.', {
          status: result.review.status,
          decidedBy: result.review.decidedBy,
        });
      }
      // Failed queued messages publish events; wake the live stream.
      if (request.body.decision === 'opt_out') notifier.announce();
      return { review: { ...result.review, phone: phoneFor(principal, result.review.phone) } };
    },
  );
};
