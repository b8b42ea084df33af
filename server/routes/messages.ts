import type { FastifyBaseLogger } from 'fastify';
import { type Static, Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { MessageWithHistorySchema, SendAcceptedSchema } from '../../contract/messages.ts';
import { requireSendingAllowed } from '../anomalies/rep-pause.ts';
import type { OutboundDecision } from '../compliance/decide.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { messageFor, type Principal, principalOf, requires, visibleConversation } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { refuseDoubleAnswer } from '../inbox/answer-guard.ts';
import { orgPhone } from '../organisations/org-phone.ts';
import { refusedSend } from '../review/review-items.ts';
import { checkOutbound, contactReference } from '../sending-check/outbound-check.ts';
import { recordQuietHoursException, statusHistory } from '../stores/message-queries.ts';
import { findByIdempotencyKey, getMessage, type MessageRow, requestHash, toDto } from '../stores/messages.ts';
import { ContactRefSchema, PhoneInput, Uuid } from './schemas.ts';

/** The longest body read at all: beyond it the request is malformed rather than a text too long. */
const MAX_BODY_INPUT = 8000;

/**
 * A text to send (or to check with preflight); `sendAt` schedules it. `to` may be left out when
 * `contact` is given: the relay texts the CRM record's first phone, which the rep need not see.
 */
export const SendBody = Type.Object(
  {
    from: PhoneInput,
    to: Type.Optional(PhoneInput),
    body: Type.String({
      minLength: 1,
      // Room for a text too long for one message, so it is refused with BODY_TOO_LONG and the limit
      // (1,600 characters, fewer with special characters), not with a schema error.
      maxLength: MAX_BODY_INPUT,
      description: 'The text as the rep wrote it (at most 1,600 characters fit in one text)',
    }),
    contact: Type.Optional(ContactRefSchema),
    sendAt: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 40,
        description: 'When to send (ISO 8601 with a zone): schedules the text instead of sending it now',
      }),
    ),
  },
  { additionalProperties: false },
);

/** POST /v1/messages: the send, and the rep's answer to the collision guard. */
const SendRequestBody = Type.Object(
  {
    ...SendBody.properties,
    confirmAnswered: Type.Optional(
      Type.Boolean({ description: 'Send although another rep answered the customer within the last minute' }),
    ),
  },
  { additionalProperties: false },
);

/** The send as typed with its numbers in E.164, read in the org's default country (422 if not numbers). */
export async function withE164Numbers(
  db: Queryable,
  orgId: string,
  input: Static<typeof SendBody>,
): Promise<Static<typeof SendBody>> {
  const from = await orgPhone(db, orgId, 'from', input.from);
  if (input.to === undefined) return { ...input, from };
  return { ...input, from, to: await orgPhone(db, orgId, 'to', input.to) };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key, refused when missing or not 1 to 255 printable ASCII characters. */
export function idempotencyKeyOf(key: string | undefined): string {
  if (key === undefined || key === '') {
    throw new ApiError(
      400,
      'IDEMPOTENCY_KEY_REQUIRED',
      'Send an Idempotency-Key header (for example a UUID) with every message.',
    );
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      'INVALID_IDEMPOTENCY_KEY',
      'The Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.',
    );
  }
  return key;
}

/**
 * What the client sent, so a retry hashes the same; a left-out `to` leaves the key out,
 * and a request with `to` hashes exactly as before it became optional.
 */
function sendRequestHash(input: Static<typeof SendBody>): string {
  return requestHash({
    from: input.from,
    to: input.to,
    body: input.body,
    contact: input.contact ?? null,
    ...(input.sendAt === undefined ? {} : { sendAt: input.sendAt }),
  });
}

/** What a send came to: a retry answered with its first message, or a newly queued one. */
export type SendOutcome =
  | { replayed: true; row: MessageRow }
  | {
      replayed: false;
      row: MessageRow;
      sendAt: Date | null;
      exception: OutboundDecision['quietHoursException'];
    };

/**
 * Checks and queues one text under its idempotency key; a retry (same key, same request) answers
 * with what the first request stored.
 */
export async function sendText(
  deps: Deps,
  principal: Principal,
  input: Static<typeof SendBody>,
  key: string,
  log: FastifyBaseLogger,
  options: { answerGuard?: boolean } = {},
): Promise<SendOutcome> {
  const { db, sms, notifier, sends } = deps;
  const hash = sendRequestHash(input);
  const replay = (row: MessageRow): SendOutcome => {
    if (row.request_hash !== hash) {
      throw new ApiError(
        409,
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used for a different message.',
      );
    }
    return { replayed: true, row };
  };
  const replayWinner = async () => {
    const winner = await findByIdempotencyKey(db, principal.orgId, key);
    if (winner === null) throw new Error('idempotency key conflict without a message');
    return replay(winner);
  };
  if (input.to === undefined) {
    contactReference(input);
    // A retry answers from what was stored before the CRM is asked again: the contact's
    // phone may have changed, or the CRM may be down, since the first request.
    const stored = await findByIdempotencyKey(db, principal.orgId, key);
    if (stored !== null) return replay(stored);
  }
  // The collision guard's look is part of the facts read: only a rep is ever asked.
  const guarded = options.answerGuard === true ? principal.userId : null;
  const checked = await checkOutbound(deps, principal.orgId, input, {
    idempotencyKey: key,
    answeringAs: guarded,
  });
  // A retry answers with what the first request stored, whatever the rules say now.
  if (checked.replayId !== null) return replayWinner();
  // After the replay: a retry of a send made before a pause still answers with what it stored.
  requireSendingAllowed(principal, deps.clock());
  if (checked.senderId === null) {
    throw new ApiError(
      422,
      'UNKNOWN_SENDER_NUMBER',
      `${input.from} is not one of your organisation's sender numbers.`,
    );
  }
  const { decision } = checked;
  // The worker checks consent again at send time, so an opt-out racing this request still wins.
  if (!decision.allowed) throw await refusedSend(db, principal, checked);
  refuseDoubleAnswer(checked.otherAnswer, checked.now);
  const row = await sends.insert({
    orgId: principal.orgId,
    senderNumberId: checked.senderId,
    from: input.from,
    to: checked.to,
    body: decision.finalText,
    purpose: 'conversation',
    contact: input.contact ?? null,
    idempotencyKey: key,
    requestHash: hash,
    sentByKeyId: principal.keyId,
    sentByUserId: principal.userId,
    sentByName: principal.displayName,
    provider: sms.name,
    scheduledFor: checked.sendAt,
    now: checked.now,
    crmTimeZone: checked.crmTimeZone,
    counted: { segments: decision.segments, encoding: decision.encoding },
  });
  // Two requests with one key raced; the loser answers with the winner's message.
  if (row === null) return replayWinner();
  if (decision.quietHoursException !== null)
    await noteException(db, log, principal, row.id, decision.quietHoursException, checked.now);
  notifier.announce();
  return { replayed: false, row, sendAt: checked.sendAt, exception: decision.quietHoursException };
}

/** A text sent in quiet hours by the org's policy is on the record, and in the log. */
async function noteException(
  db: Queryable,
  log: FastifyBaseLogger,
  principal: Principal,
  messageId: string,
  exception: NonNullable<OutboundDecision['quietHoursException']>,
  at: Date,
): Promise<void> {
  await recordQuietHoursException(db, {
    orgId: principal.orgId,
    messageId,
    actor: principal.actor,
    exception,
    at,
  });
  log.info({ messageId, exception }, 'sent in quiet hours by policy');
}

/** What a send can be refused with: the request's own faults and every compliance refusal. */
export const SEND_ERROR_CODES = [
  'INVALID_PHONE_NUMBER',
  'IDEMPOTENCY_KEY_REQUIRED',
  'INVALID_IDEMPOTENCY_KEY',
  'IDEMPOTENCY_KEY_REUSED',
  'UNKNOWN_SENDER_NUMBER',
  'INVALID_SEND_AT',
  'SENDING_PAUSED',
  'POLICY_NOT_ACKNOWLEDGED',
  // A refusal of the compliance decision (server/compliance/decide.ts), details.refusals lists them all.
  'OPTED_OUT',
  'NO_OPT_OUT',
  'NO_CONSENT',
  'PAUSED_FOR_REVIEW',
  'SENSITIVE_CONTENT',
  'BODY_TOO_LONG',
  'FREQUENCY_CAP',
  'QUIET_HOURS',
  'UNKNOWN_TIME_ZONE',
] as const;

export const messagesRoutes: RouteModule = (app, deps) => {
  const { db } = deps;
  app.post(
    '/v1/messages',
    {
      config: requires('messages.send'),
      schema: {
        summary: 'Send a text',
        description:
          'Queues a text after every compliance rule passes (consent, quiet hours, content, rate). Send an Idempotency-Key header; a retry with the same key and body answers with the first message (header idempotent-replayed: true).',
        tags: ['messages'],
        body: SendRequestBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 202: SendAcceptedSchema, ...errorResponses },
        'x-error-codes': [...SEND_ERROR_CODES, 'ALREADY_ANSWERED'],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      // Asking first is not part of the text: a retry with the confirmation is the same send.
      const { confirmAnswered, ...body } = request.body;
      const input = await withE164Numbers(db, principal.orgId, body);
      const outcome = await sendText(deps, principal, input, key, request.log, {
        answerGuard: confirmAnswered !== true,
      });
      const message = messageFor(principal, toDto(outcome.row));
      if (outcome.replayed) return reply.code(202).header('idempotent-replayed', 'true').send({ message });
      return reply.code(202).send({
        message,
        ...(outcome.sendAt === null ? {} : { scheduledFor: outcome.sendAt.toISOString() }),
        ...(outcome.exception === null ? {} : { complianceException: outcome.exception }),
      });
    },
  );

  app.get(
    '/v1/messages/:id',
    {
      config: requires('conversations.view'),
      schema: {
        summary: 'Read a message and its status history',
        tags: ['messages'],
        params: Type.Object({ id: Uuid }),
        response: { 200: MessageWithHistorySchema, ...errorResponses },
        'x-error-codes': ['MESSAGE_NOT_FOUND'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const row = await getMessage(db, request.params.id);
      if (
        row === null ||
        row.org_id !== principal.orgId ||
        !(await visibleConversation(db, principal, row.conversation_id))
      ) {
        throw new ApiError(404, 'MESSAGE_NOT_FOUND', 'No such message in your organisation.');
      }
      return {
        message: messageFor(principal, toDto(row)),
        statusHistory: await statusHistory(db, row.id),
      };
    },
  );
};
