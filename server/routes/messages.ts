import { Type } from 'typebox';
import { evaluateOutbound } from '../compliance/gate.ts';
import { countSegments } from '../compliance/segments.ts';
import { isUniqueViolation } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { newId } from '../ids.ts';
import { currentConsent } from '../messaging/consent-store.ts';
import {
  findByIdempotencyKey,
  getMessage,
  insertOutbound,
  type MessageRow,
  requestHash,
  toDto,
} from '../messaging/messages.ts';
import { checkE164 } from '../phone.ts';
import { ContactRefSchema, E164, Uuid } from './schemas.ts';

const SendBody = Type.Object(
  {
    from: E164,
    to: E164,
    body: Type.String({ minLength: 1, maxLength: 1600 }),
    contact: Type.Optional(ContactRefSchema),
  },
  { additionalProperties: false },
);

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export const messagesRoutes: RouteModule = (app, { db, sms }) => {
  app.post(
    '/v1/messages',
    {
      config: requires('messages.send'),
      schema: {
        body: SendBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const key = request.headers['idempotency-key'];
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
      const input = request.body;
      for (const field of ['from', 'to'] as const) {
        const check = checkE164(input[field]);
        if (!check.ok) {
          throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"${field}" ${check.reason}.`, { field });
        }
      }
      if (input.body.trim() === '') throw new ApiError(422, 'EMPTY_BODY', 'The message body is empty.');
      const info = countSegments(input.body);
      if (!info.withinLimit) {
        throw new ApiError(
          422,
          'BODY_TOO_LONG',
          `The message is too long for one SMS (${info.encoding}, ${info.units} units).`,
          {
            encoding: info.encoding,
            segments: info.segments,
          },
        );
      }
      const hash = requestHash({
        from: input.from,
        to: input.to,
        body: input.body,
        contact: input.contact ?? null,
      });
      const replay = (row: MessageRow) => {
        if (row.request_hash !== hash) {
          throw new ApiError(
            409,
            'IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was already used for a different message.',
          );
        }
        return reply
          .code(202)
          .header('idempotent-replayed', 'true')
          .send({ message: toDto(row) });
      };
      const existing = await findByIdempotencyKey(db, principal.orgId, key);
      if (existing !== null) return replay(existing);

      try {
        const row = await db.transaction(async (tx) => {
          const senders = await tx.query<{ id: string }>(
            'SELECT id FROM sender_numbers WHERE org_id = $1 AND e164 = $2',
            [principal.orgId, input.from],
          );
          const sender = senders[0];
          if (sender === undefined) {
            throw new ApiError(
              422,
              'UNKNOWN_SENDER_NUMBER',
              `${input.from} is not one of your organisation's sender numbers.`,
            );
          }
          const verdict = evaluateOutbound({
            purpose: 'conversation',
            consent: await currentConsent(tx, principal.orgId, input.to),
            confirmationsSinceOptOut: 0,
            now: new Date(),
          });
          if (!verdict.allow) throw new ApiError(422, verdict.code, verdict.message);
          let contactId: string | null = null;
          if (input.contact !== undefined) {
            const contacts = await tx.query<{ id: string }>(
              `INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (org_id, crm, crm_object, crm_id) DO UPDATE SET phone_e164 = EXCLUDED.phone_e164, updated_at = now()
               RETURNING id`,
              [
                newId(),
                principal.orgId,
                input.to,
                input.contact.crm,
                input.contact.objectType,
                input.contact.id,
              ],
            );
            contactId = contacts[0]?.id ?? null;
          }
          return insertOutbound(tx, {
            orgId: principal.orgId,
            senderNumberId: sender.id,
            from: input.from,
            to: input.to,
            body: input.body,
            purpose: 'conversation',
            contactId,
            idempotencyKey: key,
            requestHash: hash,
            sentByKeyId: principal.keyId,
            provider: sms.name,
          });
        });
        return reply.code(202).send({ message: toDto(row) });
      } catch (error) {
        // Two requests with one key raced; the loser answers with the winner's message.
        if (isUniqueViolation(error, 'messages_idempotency_unique')) {
          const winner = await findByIdempotencyKey(db, principal.orgId, key);
          if (winner !== null) return replay(winner);
        }
        throw error;
      }
    },
  );

  app.get(
    '/v1/messages/:id',
    { config: requires('conversations.view'), schema: { params: Type.Object({ id: Uuid }) } },
    async (request) => {
      const principal = principalOf(request);
      const row = await getMessage(db, request.params.id);
      if (row === null || row.org_id !== principal.orgId) {
        throw new ApiError(404, 'MESSAGE_NOT_FOUND', 'No such message in your organisation.');
      }
      const history = await db.query<{
        status: string;
        error_code: string | null;
        detail: string | null;
        occurred_at: Date;
      }>(
        'SELECT status, error_code, detail, occurred_at FROM message_status_events WHERE message_id = $1 ORDER BY id',
        [row.id],
      );
      return {
        message: toDto(row),
        statusHistory: history.map((h) => ({
          status: h.status,
          errorCode: h.error_code,
          detail: h.detail,
          at: h.occurred_at.toISOString(),
        })),
      };
    },
  );
};
