import { type Static, Type } from 'typebox';
import { ConversationListSchema, RevealedPhoneSchema } from '../../contract/conversations.ts';
import { errorResponses } from '../../contract/errors.ts';
import { MessagePageSchema } from '../../contract/messages.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import {
  confinedToUser,
  messageFor,
  type Principal,
  phoneFor,
  principalOf,
  requires,
  seesPii,
  visibleConversation,
} from '../http/access.ts';
import {
  decodeListCursor,
  decodePageCursor,
  encodeListCursor,
  encodePageCursor,
} from '../http/page-cursor.ts';
import type { RouteModule } from '../http/services.ts';
import { orgPhone } from '../organisations/org-phone.ts';
import { conversationPhone, listConversations } from '../stores/conversation-queries.ts';
import { conversationMessages } from '../stores/message-queries.ts';
import { toDto } from '../stores/messages.ts';
import { CrmIdSchema, CrmRecordId, ObjectType, PhoneInput, Uuid } from './schemas.ts';

/** Which conversations to list: by phone, by CRM record, only the caller's; newest first. */
const ConversationQuery = Type.Object(
  {
    phone: Type.Optional(PhoneInput),
    crm: Type.Optional(CrmIdSchema),
    objectType: Type.Optional(ObjectType),
    crmId: Type.Optional(CrmRecordId),
    /** Only conversations the calling user has sent a message in. */
    mine: Type.Optional(Type.Boolean()),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    /** The previous page's nextCursor. */
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** A page of one conversation's messages, newest first. */
const MessagePageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** One page of the conversations matching the filter that the principal may see. */
async function conversationList(db: Database, principal: Principal, q: Static<typeof ConversationQuery>) {
  const { orgId } = principal;
  const after = q.cursor === undefined ? null : decodeListCursor(q.cursor);
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
  const phone = q.phone === undefined ? null : await orgPhone(db, orgId, 'phone', q.phone);
  if (q.mine === true && principal.userId === null) {
    throw new ApiError(
      400,
      'MINE_REQUIRES_USER',
      '"mine" lists the conversations you sent in, and this API key belongs to no user: leave "mine" out, or call with a user\'s session or key.',
    );
  }
  // An own-only role is confined to its user's conversations anyway; "mine" confines anyone.
  const sentBy = q.mine === true ? principal.userId : confinedToUser(principal);
  const rows = await listConversations(db, orgId, {
    phone,
    crm: q.crm ?? null,
    crmId: q.crmId ?? null,
    objectType: q.objectType ?? null,
    sentBy,
    after,
    limit: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    nextCursor:
      rows.length > q.limit && last !== undefined
        ? encodeListCursor({ lastMessageAt: last.last_message_text, id: last.id })
        : null,
    conversations: page.map((r) => ({
      id: r.id,
      senderNumber: r.sender_e164,
      contactPhone: phoneFor(principal, r.contact_phone),
      contact: r.crm === null ? null : { crm: r.crm, objectType: r.crm_object, id: r.crm_id },
      lastMessageAt: r.last_message_at?.toISOString() ?? null,
    })),
  };
}

/** One page of a conversation's messages and the cursor of the next. */
async function messagePage(
  db: Database,
  principal: Principal,
  conversationId: string,
  query: Static<typeof MessagePageQuery>,
) {
  if (!(await visibleConversation(db, principal, conversationId))) {
    throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
  }
  const cursor = query.cursor === undefined ? null : decodePageCursor(query.cursor);
  const limit = query.limit;
  const rows = await conversationMessages(db, conversationId, cursor, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    messages: page.map((row) => messageFor(principal, toDto(row))),
    nextCursor:
      rows.length > limit && last !== undefined
        ? encodePageCursor({ createdAt: last.created_text, id: last.id })
        : null,
  };
}

/** One conversation's number unmasked for a principal without pii.view but with pii.reveal; audited. */
async function revealPhone(
  db: Database,
  principal: Principal,
  conversationId: string,
  ip: string,
  now: Date,
) {
  if (!(await visibleConversation(db, principal, conversationId))) {
    throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
  }
  const phone = await conversationPhone(db, conversationId);
  if (phone === null) {
    throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
  }
  await recordAuthEvent(db, {
    orgId: principal.orgId,
    userId: principal.userId,
    actor: principal.actor,
    kind: 'reveal',
    detail: { conversationId },
    ip,
    at: now,
  });
  return { conversationId, contactPhone: phone };
}

export const conversationsRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/conversations',
    {
      config: requires('conversations.view'),
      schema: {
        summary: 'List conversations',
        description:
          'Filter by customer phone (needs pii.view) or by CRM record; newest activity first, a page at a time: pass the answer\'s nextCursor as "cursor" for the next page.',
        tags: ['conversations'],
        response: { 200: ConversationListSchema, ...errorResponses },
        'x-error-codes': [
          'INCOMPLETE_CONTACT_REFERENCE',
          'PII_VIEW_REQUIRED',
          'INVALID_PHONE_NUMBER',
          'MINE_REQUIRES_USER',
          'INVALID_CURSOR',
        ],
        querystring: ConversationQuery,
      },
    },
    async (request) => conversationList(db, principalOf(request), request.query),
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
        querystring: MessagePageQuery,
      },
    },
    async (request) => messagePage(db, principalOf(request), request.params.id, request.query),
  );

  // One conversation's number unmasked, for a principal with pii.reveal; every reveal is audited.
  app.post(
    '/v1/reveal',
    {
      config: requires('pii.reveal'),
      schema: {
        summary: "Reveal a conversation's phone number",
        description:
          'Needs pii.reveal (a principal with pii.view sees numbers anyway); every reveal is audited.',
        tags: ['conversations'],
        body: Type.Object({ conversationId: Uuid }, { additionalProperties: false }),
        response: { 200: RevealedPhoneSchema, ...errorResponses },
        'x-error-codes': ['CONVERSATION_NOT_FOUND'],
      },
    },
    async (request) =>
      revealPhone(db, principalOf(request), request.body.conversationId, request.ip, clock()),
  );
};
