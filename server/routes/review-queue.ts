import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import {
  ReviewItemAnswerSchema,
  ReviewItemDecisionSchema,
  ReviewItemListSchema,
  ReviewKindSchema,
} from '../../contract/review.ts';
import { phoneFor, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { decideReviewItem, listReviewItems, type ReviewItemDto } from '../review/review-items.ts';
import { Uuid } from './schemas.ts';

const tags = ['review'];

const ListQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([
        Type.Literal('open'),
        Type.Literal('escalated'),
        Type.Literal('closed'),
        Type.Literal('all'),
      ]),
    ),
    kind: Type.Optional(ReviewKindSchema),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);

const DecideBody = Type.Object(
  {
    decision: ReviewItemDecisionSchema,
    note: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*\\S',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The review queue (issue #18, item 4): refused sends, overrides, redactions, unclear replies,
 * escalations and a random sample of conversations, for reviewers (review.flagged) to mark OK or
 * act on; every decision is audited.
 */
export const reviewQueueRoutes: RouteModule = (app, { db, clock }) => {
  const masked = (phone: (p: string) => string) => (item: ReviewItemDto) => ({
    ...item,
    phone: item.phone === null ? null : phone(item.phone),
  });

  app.get(
    '/v1/review-items',
    {
      config: requires('review.flagged'),
      schema: {
        summary: 'List the review queue',
        description: 'Newest first; open items unless status says otherwise; optionally one kind.',
        tags,
        querystring: ListQuery,
        response: { 200: ReviewItemListSchema, ...errorResponses },
        'x-error-codes': ['INVALID_CURSOR'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { status, kind, cursor, limit } = request.query;
      const page = await listReviewItems(db, p.orgId, {
        status: status ?? 'open',
        kind: kind ?? null,
        cursor: cursor ?? null,
        limit: limit ?? 50,
      });
      return { ...page, items: page.items.map(masked((phone) => phoneFor(p, phone))) };
    },
  );

  app.post(
    '/v1/review-items/:id/decide',
    {
      config: requires('review.flagged'),
      schema: {
        summary: 'Decide a review item',
        description:
          'ok or coach closes it; opt_out records the customer’s opt-out (an unclear reply’s pause is decided with it); escalate keeps it open as escalated. Audited as review.decided.',
        tags,
        params: Type.Object({ id: Uuid }),
        body: DecideBody,
        response: { 200: ReviewItemAnswerSchema, ...errorResponses },
        'x-error-codes': [
          'REVIEW_ITEM_NOT_FOUND',
          'REVIEW_ITEM_CLOSED',
          'REVIEW_NOTE_REQUIRED',
          'REVIEW_NO_PHONE',
        ],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const item = await decideReviewItem(db, {
        orgId: p.orgId,
        itemId: request.params.id,
        decision: request.body.decision,
        note: request.body.note?.trim() ?? null,
        actor: p.actor,
        at: clock(),
        ip: request.ip,
      });
      return { item: masked((phone) => phoneFor(p, phone))(item) };
    },
  );
};
