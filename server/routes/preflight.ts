import { errorResponses } from '../../contract/errors.ts';
import { PreflightSchema } from '../../contract/preflight.ts';
import { requireSendingAllowed } from '../anomalies/rep-pause.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { checkOutbound } from '../sending-check/outbound-check.ts';
import { SendBody, withE164Numbers } from './messages.ts';

/**
 * POST /v1/messages/preflight: what POST /v1/messages would decide for the same body, without
 * storing anything. A refusal is an answer (200), not an error; only bad input is a 4xx (and, for
 * a body that names a CRM contact instead of `to`, a contact the CRM cannot give a phone for).
 */
export const preflightRoutes: RouteModule = (app, deps) => {
  app.post(
    '/v1/messages/preflight',
    {
      config: requires('messages.send'),
      schema: {
        summary: 'Check a text before sending it',
        description:
          'What POST /v1/messages would decide for the same body, storing nothing. A refusal is an answer (200 with allowed: false), not an error.',
        tags: ['messages'],
        body: SendBody,
        response: { 200: PreflightSchema, ...errorResponses },
        'x-error-codes': [
          'INVALID_PHONE_NUMBER',
          'UNKNOWN_SENDER_NUMBER',
          'INVALID_SEND_AT',
          'SENDING_PAUSED',
          'POLICY_NOT_ACKNOWLEDGED',
        ],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { orgId } = principal;
      requireSendingAllowed(principal, deps.clock());
      const input = await withE164Numbers(deps.db, orgId, request.body);
      const checked = await checkOutbound(deps, orgId, input, { idempotencyKey: null });
      if (checked.senderId === null) {
        throw new ApiError(
          422,
          'UNKNOWN_SENDER_NUMBER',
          `${input.from} is not one of your organisation's sender numbers.`,
        );
      }
      const { decision } = checked;
      return {
        allowed: decision.allowed,
        refusals: decision.refusals,
        finalText: decision.finalText,
        firstContactNotice: decision.firstContactNotice,
        segments: decision.segments,
        encoding: decision.encoding,
        recipientLocalTime: decision.recipientLocalTime,
        nextAllowedAt: decision.nextAllowedAt,
        schedulable: decision.schedulable,
        sendAt: checked.sendAt?.toISOString() ?? null,
      };
    },
  );
};
