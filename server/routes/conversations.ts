import { Type } from 'typebox';
import { ConversationListSchema, RevealedPhoneSchema } from '../../contract/conversations.ts';
import { errorResponses } from '../../contract/errors.ts';
import { MessagePageSchema } from '../../contract/messages.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { ApiError } from '../errors.ts';
import {
  confinedToUser,
  messageFor,
  phoneFor,
  principalOf,
  requires,
  seesPii,
  visibleConversation,
} from '../http/access.ts';
import { decodePageCursor, encodePageCursor } from '../http/page-cursor.ts';
import type { RouteModule } from '../http/types.ts';
import { MESSAGE_COLUMNS, type MessageRow, toDto } from '../messaging/messages.ts';
import { checkE164 } from '../phone.ts';
import { CrmIdSchema, CrmRecordId, E164, ObjectType, Uuid } from './schemas.ts';

interface ConversationRow {
  id: string;
  sender_e164: string;
  contact_phone: string;
  crm: string | null;
  crm_object: string | null;
  crm_id: string | null;
  last_message_at: Date | null;
}

export const conversationsRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/conversations',
    {
      config: requires('conversations.view'),
      schema: {
        summary: 'List conversations',
        description: 'Filter by customer phone (needs pii.view) or by CRM record; newest activity first.',
        tags: ['conversations'],
        response: { 200: ConversationListSchema, ...errorResponses },
        'x-error-codes': [
          'INCOMPLETE_CONTACT_REFERENCE',
          'PII_VIEW_REQUIRED',
          'INVALID_PHONE_NUMBER',
          'MINE_REQUIRES_USER',
        ],
        querystring: Type.Object(
          {
            phone: Type.Optional(E164),
            crm: Type.Optional(CrmIdSchema),
            objectType: Type.Optional(ObjectType),
            crmId: Type.Optional(CrmRecordId),
            /** Only conversations the calling user has sent a message in. */
            mine: Type.Optional(Type.Boolean()),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { orgId } = principal;
      const q = request.query;
      if ((q.crm === undefined) !== (q.crmId === undefined)) {
        throw new ApiError(
          400,
          'INCOMPLETE_CONTACT_REFERENCE',
          'Filter by a CRM contact with both "crm" and "crmId".',
        );
      }
      if (q.phone !== undefined && !seesPii(principal)) {
        // An answer (one conversation or none) would confirm a guessed number to someone who may
        // not see numbers; the panel filters by the CRM record instead for such roles.
        throw new ApiError(
          403,
          'PII_VIEW_REQUIRED',
          'Finding conversations by phone number needs the pii.view permission; filter by the CRM contact ("crm" and "crmId") instead.',
          { permission: 'pii.view' },
        );
      }
      if (q.phone !== undefined) {
        const check = checkE164(q.phone);
        if (!check.ok)
          throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"phone" ${check.reason}.`, { field: 'phone' });
      }
      if (q.mine === true && principal.userId === null) {
        throw new ApiError(
          400,
          'MINE_REQUIRES_USER',
          '"mine" lists the conversations you sent in, and this API key belongs to no user: leave "mine" out, or call with a user\'s session or key.',
        );
      }
      // An own-only role is confined to its user's conversations anyway; "mine" confines anyone.
      const sentBy = q.mine === true ? principal.userId : confinedToUser(principal);
      const rows = await db.query<ConversationRow>(
        `SELECT c.id, n.e164 AS sender_e164, c.contact_phone, ct.crm, ct.crm_object, ct.crm_id, c.last_message_at
           FROM conversations c
           JOIN sender_numbers n ON n.id = c.sender_number_id
           LEFT JOIN contacts ct ON ct.id = c.contact_id
          WHERE c.org_id = $1
            AND ($2::text IS NULL OR c.contact_phone = $2)
            AND ($3::text IS NULL OR (ct.crm = $3 AND ct.crm_id = $4 AND ($5::text IS NULL OR ct.crm_object = $5)))
            AND ($7::uuid IS NULL OR EXISTS (
                  SELECT 1 FROM messages m WHERE m.sent_by_user_id = $7 AND m.conversation_id = c.id))
          ORDER BY c.last_message_at DESC NULLS LAST, c.id
          LIMIT $6`,
        [orgId, q.phone ?? null, q.crm ?? null, q.crmId ?? null, q.objectType ?? null, q.limit, sentBy],
      );
      return {
        conversations: rows.map((r) => ({
          id: r.id,
          senderNumber: r.sender_e164,
          contactPhone: phoneFor(principal, r.contact_phone),
          contact: r.crm === null ? null : { crm: r.crm, objectType: r.crm_object, id: r.crm_id },
          lastMessageAt: r.last_message_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.get(
    '/v1/conversations/:id/messages',
    {
      config: requires('conversations.view'),
      schema: {
        summary: "Page through a conversation's messages",
        tags: ['conversations'],
        response: { 200: MessagePageSchema, ...errorResponses },
        'x-error-codes': ['CONVERSATION_NOT_FOUND', 'INVALID_CURSOR'],
        params: Type.Object({ id: Uuid }),
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (!(await visibleConversation(db, principal, request.params.id))) {
        throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
      }
      const cursor = request.query.cursor === undefined ? null : decodePageCursor(request.query.cursor);
      const limit = request.query.limit;
      // created_at travels as Postgres text so the microseconds survive the round trip.
      const rows = await db.query<MessageRow & { created_text: string }>(
        `SELECT ${MESSAGE_COLUMNS}, m.created_at::text AS created_text FROM messages m
          WHERE m.conversation_id = $1
            AND ($2::timestamptz IS NULL OR (m.created_at, m.id) < ($2::timestamptz, $3::uuid))
          ORDER BY m.created_at DESC, m.id DESC
          LIMIT $4`,
        [request.params.id, cursor?.createdAt ?? null, cursor?.id ?? null, limit + 1],
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        messages: page.map((row) => messageFor(principal, toDto(row))),
        nextCursor:
          rows.length > limit && last !== undefined
            ? encodePageCursor({ createdAt: last.created_text, id: last.id })
            : null,
      };
    },
  );

  // One conversation's number unmasked, for a principal without pii.view; every reveal is audited.
  app.post(
    '/v1/reveal',
    {
      config: requires('conversations.view'),
      schema: {
        summary: "Reveal a conversation's phone number",
        description: 'For a principal without pii.view; every reveal is audited.',
        tags: ['conversations'],
        body: Type.Object({ conversationId: Uuid }, { additionalProperties: false }),
        response: { 200: RevealedPhoneSchema, ...errorResponses },
        'x-error-codes': ['CONVERSATION_NOT_FOUND'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { conversationId } = request.body;
      if (!(await visibleConversation(db, principal, conversationId))) {
        throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
      }
      const rows = await db.query<{ contact_phone: string }>(
        'SELECT contact_phone FROM conversations WHERE id = $1',
        [conversationId],
      );
      const phone = rows[0]?.contact_phone;
      if (phone === undefined) {
        throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
      }
      await recordAuthEvent(db, {
        orgId: principal.orgId,
        userId: principal.userId,
        actor: principal.actor,
        kind: 'reveal',
        detail: { conversationId },
        ip: request.ip,
        at: clock(),
      });
      return { conversationId, contactPhone: phone };
    },
  );
};
