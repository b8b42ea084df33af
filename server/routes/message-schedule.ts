import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { MessageEnvelopeSchema } from '../../contract/messages.ts';
import { requireSendingAllowed } from '../anomalies/rep-pause.ts';
import { ApiError } from '../errors.ts';
import { messageFor, type Principal, principalOf, requires, visibleConversation } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { checkOutbound, refusalError } from '../sending-check/outbound-check.ts';
import { type MessageRow, toDto } from '../stores/messages.ts';
import {
  cancelScheduled,
  rescheduleScheduled,
  type ScheduleTarget,
  scheduleTarget,
} from '../stores/scheduled-changes.ts';
import { Uuid } from './schemas.ts';

/** A new time for a scheduled text; the same field, and the same rules, as a send's `sendAt`. */
export const RescheduleBody = Type.Object(
  {
    sendAt: Type.String({
      minLength: 16,
      maxLength: 40,
      description: 'When to send instead (ISO 8601 with a zone); judged again by every rule',
    }),
  },
  { additionalProperties: false },
);

/** Refusals of the outbound decision a reschedule can meet, as a send does. */
const DECISION_CODES = [
  'OPTED_OUT',
  'NO_CONSENT',
  'PAUSED_FOR_REVIEW',
  'SENSITIVE_CONTENT',
  'BODY_TOO_LONG',
  'FREQUENCY_CAP',
  'QUIET_HOURS',
  'UNKNOWN_TIME_ZONE',
];

const notScheduled = (target: ScheduleTarget) =>
  new ApiError(
    409,
    'MESSAGE_NOT_SCHEDULED',
    target.message.status === 'queued'
      ? 'This text is no longer waiting for a later time: it is being sent now.'
      : `This text is not waiting to be sent (it is ${target.message.status}); only a scheduled text can be changed.`,
    { status: target.message.status },
  );

/**
 * The scheduled text the principal may change: 404 when it is not in a conversation the principal
 * sees (another org's, or one a confined rep never sent in), 403 unless the principal sent it or
 * holds messages.manage, 409 unless its job still waits for a later time.
 */
async function changeable(deps: Deps, principal: Principal, id: string): Promise<ScheduleTarget> {
  const target = await scheduleTarget(deps.db, id);
  if (
    target === null ||
    target.message.org_id !== principal.orgId ||
    !(await visibleConversation(deps.db, principal, target.message.conversation_id))
  ) {
    throw new ApiError(404, 'MESSAGE_NOT_FOUND', 'No such message in your organisation.');
  }
  const own =
    (principal.userId !== null && target.sentByUserId === principal.userId) ||
    (principal.keyId !== null && target.message.sent_by_key_id === principal.keyId);
  if (!own && !principal.permissions.includes('messages.manage')) {
    throw new ApiError(
      403,
      'FORBIDDEN',
      'Only its sender, or a role with the "messages.manage" permission, may change this text.',
      { permission: 'messages.manage' },
    );
  }
  const job = target.job;
  if (target.message.status !== 'queued' || job?.state !== 'queued' || job.scheduledFor === null) {
    throw notScheduled(target);
  }
  return target;
}

/**
 * Moves a scheduled text after judging it again by the one outbound decision, as a send with
 * `sendAt` is judged; a refusal throws and changes nothing.
 */
async function rescheduleText(
  deps: Deps,
  principal: Principal,
  id: string,
  request: { sendAt: string; ip: string },
): Promise<MessageRow> {
  const { sendAt } = request;
  const target = await changeable(deps, principal, id);
  requireSendingAllowed(principal, deps.clock());
  const { message } = target;
  // The stored body is the exact text that will leave (any first-contact notice included):
  // it is judged again as it stands, and it does not count towards its own frequency cap.
  const checked = await checkOutbound(
    deps,
    principal.orgId,
    {
      from: message.from_e164,
      to: message.to_e164,
      body: message.body,
      contact: target.contact ?? undefined,
      sendAt,
    },
    { idempotencyKey: null, stored: { messageId: message.id } },
  );
  if (checked.sendAt === null) {
    throw new ApiError(422, 'INVALID_SEND_AT', '"sendAt" must be a later time than now.', {
      field: 'sendAt',
    });
  }
  if (checked.senderId === null) {
    throw new ApiError(
      422,
      'UNKNOWN_SENDER_NUMBER',
      `${message.from_e164} is no longer one of your organisation's sender numbers.`,
    );
  }
  if (!checked.decision.allowed) throw refusalError(checked.decision);
  const row = await rescheduleScheduled(
    deps.db,
    {
      messageId: message.id,
      sendAt: checked.sendAt,
      crmTimeZone: checked.crmTimeZone ?? target.job?.crmTimeZone ?? null,
      detail: `rescheduled for ${checked.sendAt.toISOString()} by ${principal.displayName}`,
    },
    { actor: principal.actor, ip: request.ip, at: deps.clock() },
  );
  if (row === null) throw notScheduled(target);
  deps.notifier.announce();
  return row;
}

/** Scheduled texts: cancel one before it leaves, or send it at another time (judged again). */
export const messageScheduleRoutes: RouteModule = (app, deps) => {
  const { db, notifier } = deps;
  app.post(
    '/v1/messages/:id/cancel',
    {
      config: requires('messages.send'),
      schema: {
        summary: 'Cancel a scheduled text',
        description:
          'Calls off a text waiting for its scheduled time (or for the recipient’s morning). Its sender may, or a role with messages.manage. A text the outbox has already taken is not cancelled (409).',
        tags: ['messages'],
        params: Type.Object({ id: Uuid }),
        response: { 200: MessageEnvelopeSchema, ...errorResponses },
        'x-error-codes': ['MESSAGE_NOT_FOUND', 'FORBIDDEN', 'MESSAGE_NOT_SCHEDULED'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const target = await changeable(deps, principal, request.params.id);
      const by = { actor: principal.actor, ip: request.ip, at: deps.clock() };
      const row = await cancelScheduled(db, target.message.id, `cancelled by ${principal.displayName}`, by);
      // The outbox claimed it between the read and the cancel: it goes, and nothing changed here.
      if (row === null) throw notScheduled(target);
      notifier.announce();
      return { message: messageFor(principal, toDto(row)) };
    },
  );

  app.post(
    '/v1/messages/:id/reschedule',
    {
      config: requires('messages.send'),
      schema: {
        summary: 'Send a scheduled text at another time',
        description:
          'Moves a text waiting for its scheduled time to `sendAt`. Every rule of a send is applied again (consent, a review pause, content, the frequency cap, quiet hours at the new time); a refusal changes nothing. Its sender may, or a role with messages.manage.',
        tags: ['messages'],
        params: Type.Object({ id: Uuid }),
        body: RescheduleBody,
        response: { 200: MessageEnvelopeSchema, ...errorResponses },
        'x-error-codes': [
          'MESSAGE_NOT_FOUND',
          'FORBIDDEN',
          'MESSAGE_NOT_SCHEDULED',
          'INVALID_SEND_AT',
          'UNKNOWN_SENDER_NUMBER',
          'SENDING_PAUSED',
          'POLICY_NOT_ACKNOWLEDGED',
          ...DECISION_CODES,
        ],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const row = await rescheduleText(deps, principal, request.params.id, {
        sendAt: request.body.sendAt,
        ip: request.ip,
      });
      return { message: messageFor(principal, toDto(row)) };
    },
  );
};
