import { Type } from 'typebox';
import { deriveConsent } from '../compliance/consent.ts';
import { evaluateOutbound } from '../compliance/gate.ts';
import { countSegments } from '../compliance/segments.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import {
  findByIdempotencyKey,
  getMessage,
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

export const messagesRoutes: RouteModule = (app, { db, sms, notifier, sends }) => {
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
      // One read for everything the decision needs: the sender, the consent, an earlier use of the key.
      const facts = (
        await db.query<{
          sender_id: string | null;
          replay_id: string | null;
          kind: 'opt_in' | 'opt_out' | null;
          source: string | null;
          occurred_at: Date | null;
        }>(
          `SELECT (SELECT id FROM sender_numbers WHERE org_id = $1 AND e164 = $2) AS sender_id,
                  (SELECT id FROM messages WHERE org_id = $1 AND idempotency_key = $4) AS replay_id,
                  c.kind, c.source, c.occurred_at
             FROM (SELECT 1) AS one
             LEFT JOIN LATERAL (SELECT kind, source, occurred_at FROM consent_events
                                 WHERE org_id = $1 AND phone_e164 = $3 ORDER BY id DESC LIMIT 1) c ON true`,
          [principal.orgId, input.from, input.to, key],
        )
      )[0];
      const replayWinner = async () => {
        const winner = await findByIdempotencyKey(db, principal.orgId, key);
        if (winner === null) throw new Error('idempotency key conflict without a message');
        return replay(winner);
      };
      if (facts?.replay_id != null) return replayWinner();
      if (facts?.sender_id == null) {
        throw new ApiError(
          422,
          'UNKNOWN_SENDER_NUMBER',
          `${input.from} is not one of your organisation's sender numbers.`,
        );
      }
      const verdict = evaluateOutbound({
        purpose: 'conversation',
        consent: deriveConsent(
          facts.kind === null || facts.source === null || facts.occurred_at === null
            ? []
            : [{ kind: facts.kind, source: facts.source, occurredAt: facts.occurred_at }],
        ),
        confirmationsSinceOptOut: 0,
        now: new Date(),
      });
      // The worker checks consent again at send time, so an opt-out racing this request still wins.
      if (!verdict.allow) throw new ApiError(422, verdict.code, verdict.message);
      const row = await sends.insert({
        orgId: principal.orgId,
        senderNumberId: facts.sender_id,
        from: input.from,
        to: input.to,
        body: input.body,
        purpose: 'conversation',
        contact: input.contact ?? null,
        idempotencyKey: key,
        requestHash: hash,
        sentByKeyId: principal.keyId,
        sentByName: principal.keyName ?? `key ${principal.keyId.slice(0, 8)}`,
        provider: sms.name,
      });
      // Two requests with one key raced; the loser answers with the winner's message.
      if (row === null) return replayWinner();
      notifier.announce();
      return reply.code(202).send({ message: toDto(row) });
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
