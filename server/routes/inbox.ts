import { type Static, Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { INBOX_FILTERS, InboxPageSchema, InboxStateSchema } from '../../contract/inbox.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { rolePermissions } from '../auth/users.ts';
import { deriveConsent } from '../compliance/consent.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import {
  confinedToUser,
  type Principal,
  phoneFor,
  principalOf,
  requires,
  seesPii,
  visibleConversation,
} from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { type InboxRow, inboxPage, unreadCount } from '../inbox/inbox-queries.ts';
import { announceInbox, assignConversation, inboxState, markRead, markUnread } from '../inbox/inbox-state.ts';
import { type CrmPages, crmPagesOf, findUrl, recordUrl } from '../inbox/record-links.ts';
import { Uuid } from './schemas.ts';

const tags = ['inbox'];

const InboxQuerySchema = Type.Object(
  {
    filter: Type.Union(
      INBOX_FILTERS.map((f) => Type.Literal(f)),
      {
        default: 'mine',
        description: 'mine: routed to or texted by you; unassigned: the queue; all: the org',
      },
    ),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 80,
        pattern: '^[^\\u0000-\\u001f\\u007f]+$',
        description: 'Words of the name, or the number (or its last 4 to 10 digits)',
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);

/** A search as the query reads it: LIKE's wildcards taken literally; digits search numbers. */
function searchOf(principal: Principal, q: string | undefined): { search: string | null; numbers: boolean } {
  const text = q?.trim() ?? '';
  if (text === '') return { search: null, numbers: false };
  const digits = text.replace(/[\s()+.-]/g, '');
  // Without pii.view a number search would reveal which numbers exist: names only, then. Numbers
  // are found by their last 4 to 10 digits (stored as tokens, only those have a search hash).
  if (/^\d{4,15}$/.test(digits)) return { search: digits, numbers: seesPii(principal) };
  return { search: text.replace(/[\\%_]/g, (c) => `\\${c}`), numbers: false };
}

function rowDto(principal: Principal, pages: CrmPages, row: InboxRow) {
  const record =
    row.crm_id === null
      ? null
      : recordUrl(pages, { crm: row.crm, objectType: row.crm_object, id: row.crm_id });
  const phone = phoneFor(principal, row.contact_phone);
  return {
    conversationId: row.id,
    senderNumber: row.sender_e164,
    contactPhone: phone,
    contact:
      row.crm === null && row.contact_name === null
        ? null
        : {
            name: row.contact_name,
            crm: row.crm,
            objectType: row.crm_object,
            id: row.crm_id,
            recordUrl: record,
          },
    // A number the caller sees masked stays out of the link (findUrl keeps only a full E.164).
    findInCrm: row.crm_id === null ? findUrl(pages, phone) : null,
    lastMessage:
      row.last_direction === null || row.last_at === null
        ? null
        : { direction: row.last_direction, body: row.last_body ?? '', at: row.last_at.toISOString() },
    // The ledger's latest entry, judged by the one consent rule (compliance/consent.ts).
    consent: deriveConsent(
      row.consent_kind === null || row.consent_at === null
        ? []
        : [{ kind: row.consent_kind, source: row.consent_source ?? '', occurredAt: row.consent_at }],
    ).status,
    assignee: row.assignee_id === null ? null : { userId: row.assignee_id, name: row.assignee_name },
    unread: row.unread,
  };
}

/** The caller as a person: read state and "mine" belong to a user, not to an API key. */
export function userOf(principal: Principal): string {
  if (principal.userId === null)
    throw new ApiError(
      400,
      'USER_REQUIRED',
      'Read state and "mine" belong to a person: sign in as a user, or use an API key bound to one.',
    );
  return principal.userId;
}

async function inboxList(deps: Deps, principal: Principal, query: Static<typeof InboxQuerySchema>) {
  if (query.filter !== 'mine' && confinedToUser(principal) !== null)
    throw new ApiError(
      403,
      'FILTER_NOT_ALLOWED',
      'Your role sees only its own conversations: use filter=mine.',
      { allowed: ['mine'] },
    );
  const userId = query.filter === 'mine' ? userOf(principal) : principal.userId;
  const { search, numbers } = searchOf(principal, query.q);
  const page = await inboxPage(deps.db, {
    orgId: principal.orgId,
    // No user (an API key on the org's lists): nobody's unread rows match the nil id.
    userId: userId ?? '00000000-0000-0000-0000-000000000000',
    filter: query.filter,
    search,
    searchNumbers: numbers,
    limit: query.limit,
    cursor: query.cursor ?? null,
  });
  const pages = await crmPagesOf(deps.db, principal.orgId, deps.config);
  return {
    rows: page.rows.map((row) => rowDto(principal, pages, row)),
    unreadCount: userId === null ? 0 : await unreadCount(deps.db, principal.orgId, userId),
    nextCursor: page.nextCursor,
  };
}

const params = Type.Object({ id: Uuid });

export async function visibleOr404(deps: Deps, principal: Principal, id: string): Promise<void> {
  if (!(await visibleConversation(deps.db, principal, id)))
    throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'No such conversation in your organisation.');
}

/** The inbox (GET /v1/inbox) and a conversation's read state and routing. */
export const inboxRoutes: RouteModule = (app, deps) => {
  app.get(
    '/v1/inbox',
    {
      config: requires('conversations.view'),
      schema: {
        summary: 'The inbox: conversations waiting for you first, then recent ones',
        description:
          'mine: your unread conversations (newest reply first), then the rest of yours by activity; unassigned: the queue nobody owns; all: the org’s (roles that see all conversations). Keyset pages.',
        tags,
        querystring: InboxQuerySchema,
        response: { 200: InboxPageSchema, ...errorResponses },
        'x-error-codes': ['FILTER_NOT_ALLOWED', 'USER_REQUIRED', 'INVALID_CURSOR'],
      },
    },
    async (request) => inboxList(deps, principalOf(request), request.query),
  );

  for (const [action, unread] of [
    ['read', false],
    ['unread', true],
  ] as const) {
    app.post(
      `/v1/conversations/:id/${action}`,
      {
        config: requires('conversations.view'),
        schema: {
          summary: unread ? 'Mark a conversation unread for you' : 'Mark a conversation read for you',
          description: unread
            ? 'It goes back to the top of your inbox until its thread is shown again.'
            : 'The panel calls this when it shows the thread; the same on every browser you use.',
          tags,
          params,
          response: { 200: InboxStateSchema, ...errorResponses },
          'x-error-codes': ['CONVERSATION_NOT_FOUND', 'USER_REQUIRED'],
        },
      },
      async (request) => {
        const p = principalOf(request);
        await visibleOr404(deps, p, request.params.id);
        const userId = userOf(p);
        const id = request.params.id;
        const state = await deps.db.transaction(async (tx) => {
          if (unread) await markUnread(tx, userId, id, deps.clock());
          const changed = unread || (await markRead(tx, userId, id));
          // Read again and announced only when it changed: showing a read thread costs one query.
          return changed ? announceInbox(tx, p.orgId, id) : inboxState(tx, id);
        });
        return { conversationId: id, assignee: state.assignee, unread: state.unreadFor.includes(userId) };
      },
    );
  }

  assignRoute(app, deps);
};

/** Only an active user of the org who may text can be given a conversation to answer. */
async function assertAssignable(tx: Queryable, orgId: string, userId: string): Promise<void> {
  const [user] = await tx.query<{ role: string }>(
    `SELECT role FROM users WHERE id = $1 AND org_id = $2 AND status = 'active'`,
    [userId, orgId],
  );
  if (user === undefined)
    throw new ApiError(422, 'ASSIGNEE_NOT_FOUND', 'No active user with that id in your organisation.');
  const permissions = await rolePermissions(tx, orgId, user.role);
  if (!permissions?.includes('messages.send'))
    throw new ApiError(
      422,
      'ASSIGNEE_CANNOT_TEXT',
      'That user’s role may not send texts, so they could not answer.',
      {
        role: user.role,
      },
    );
}

/** Routes a conversation to a rep by hand (or back to the queue); audited with who and from where. */
const assignRoute: RouteModule = (app, deps) => {
  app.post(
    '/v1/conversations/:id/assign',
    {
      config: requires('messages.manage'),
      schema: {
        summary: 'Route a conversation to a rep, or back to the unassigned queue',
        description:
          'userId null returns it to the queue. The rep gets it in their inbox (unread when a reply waits) and hears its live events.',
        tags,
        params,
        body: Type.Object({ userId: Type.Union([Uuid, Type.Null()]) }, { additionalProperties: false }),
        response: { 200: InboxStateSchema, ...errorResponses },
        'x-error-codes': ['CONVERSATION_NOT_FOUND', 'ASSIGNEE_NOT_FOUND', 'ASSIGNEE_CANNOT_TEXT'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const id = request.params.id;
      const target = request.body.userId;
      await visibleOr404(deps, p, id);
      const now = deps.clock();
      const state = await deps.db.transaction(async (tx) => {
        if (target !== null) await assertAssignable(tx, p.orgId, target);
        const before = await inboxState(tx, id);
        if (!(await assignConversation(tx, { conversationId: id, userId: target, now }))) return before;
        await appendAudit(tx, {
          orgId: p.orgId,
          actor: p.actor,
          action: 'conversation.assigned',
          target: { type: 'conversation', id },
          before: { assignee: before.assignee?.userId ?? null },
          after: { assignee: target },
          at: now,
          ip: request.ip,
        });
        return announceInbox(tx, p.orgId, id);
      });
      const unread = p.userId !== null && state.unreadFor.includes(p.userId);
      return { conversationId: id, assignee: state.assignee, unread };
    },
  );
};
