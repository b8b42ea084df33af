import type { FastifyBaseLogger } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { EscalationLoggedSchema } from '../../contract/escalations.ts';
import { CrmError } from '../../crm-plugins/errors.ts';
import {
  type ContactRef,
  type CrmPlugin,
  FOLLOW_UP_KINDS,
  type FollowUpKind,
} from '../../crm-plugins/types.ts';
import { getUser } from '../auth/users.ts';
import { crmUnavailable } from '../crm-sync/crm-unavailable.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type Principal, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { flagForReview } from '../review/review-items.ts';
import { CrmIdSchema, CrmRecordId, ObjectType } from './schemas.ts';

const EscalationBody = Type.Object(
  {
    crm: CrmIdSchema,
    objectType: ObjectType,
    id: CrmRecordId,
    kind: Type.Union(FOLLOW_UP_KINDS.map((k) => Type.Literal(k))),
    /** What the rep wants the follow-up to cover; must say something (not only spaces). */
    note: Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' }),
  },
  { additionalProperties: false },
);

const SUBJECT_VERB: Record<FollowUpKind, string> = { call: 'Call back', email: 'Email' };

/**
 * Escalation from the texting panel: when a thread turns sensitive (a diagnosis, a card number,
 * a dispute), the rep moves it off SMS by logging a call or email task on the CRM record.
 */
export const escalationsRoutes: RouteModule = (app, { db, crm, clock }) => {
  app.post(
    '/v1/contacts/escalate',
    {
      config: requires('messages.send'),
      schema: {
        summary: 'Move a thread off SMS',
        description: 'Logs a call or email task on the CRM record when a thread turns sensitive.',
        tags: ['contacts'],
        body: EscalationBody,
        response: { 201: EscalationLoggedSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { crm: crmId, objectType, id, kind, note } = request.body;
      const plugin = (await crm.forOrg(principal.orgId)).get(crmId);
      if (plugin === null) {
        throw new ApiError(
          409,
          'CRM_NOT_CONNECTED',
          `${crmId} is not connected to this relay yet. An admin connects it with the CLI.`,
        );
      }
      const ref: ContactRef = { crm: crmId, objectType, id };
      const contact = await askCrm(plugin, ref, request.log, () => plugin.findContactById(ref));
      if (contact === null) throw notFound(plugin, ref);
      const assigneeEmail = await emailOf(db, principal);
      const created = await askCrm(plugin, ref, request.log, () =>
        plugin.createFollowUpTask(ref, {
          kind,
          subject: `${SUBJECT_VERB[kind]} ${contact.name} — escalated from SMS`,
          body: [
            `Escalated from an SMS conversation by ${principal.displayName}.`,
            `Follow up by ${kind === 'call' ? 'phone' : 'email'}, not by text.`,
            '',
            'Note:',
            note.trim(),
          ].join('\n'),
          dueAt: clock(),
          assigneeEmail,
        }),
      );
      // A thread that turned sensitive is worth a reviewer's look; the note stays in the CRM.
      await flagForReview(db, {
        orgId: principal.orgId,
        kind: 'escalation',
        reason: `${kind} follow-up logged on ${crmId} ${objectType} ${id}`,
        dedupeKey: `escalation:${crmId}:${created.id}`,
        userId: principal.userId,
        actor: principal.actor,
        phone: contact.phones[0] ?? null,
        at: clock(),
      });
      return reply.code(201).send({ activity: { id: created.id, kind, crm: crmId } });
    },
  );
};

const notFound = (plugin: CrmPlugin, ref: ContactRef) =>
  new ApiError(404, 'CONTACT_NOT_FOUND', `No ${ref.objectType} ${ref.id} in ${plugin.label}.`);

/** The rep's email, so the CRM can assign the task to them; API keys bound to no user have none. */
async function emailOf(db: Queryable, principal: Principal): Promise<string | null> {
  if (principal.userId === null) return null;
  const user = await getUser(db, principal.userId);
  return user !== null && user.org_id === principal.orgId ? user.email : null;
}

/**
 * Runs a CRM call and turns its typed failures into the relay's stable codes: a vanished record is
 * CONTACT_NOT_FOUND, everything else 502 CRM_UNAVAILABLE (as the contact lookup answers), with
 * `retryable` and, when the CRM throttled us, `retryAfterSeconds` (sent as Retry-After too).
 */
async function askCrm<T>(
  plugin: CrmPlugin,
  ref: ContactRef,
  log: FastifyBaseLogger,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof CrmError)) throw error;
    if (error.code === 'not_found') throw notFound(plugin, ref);
    throw crmUnavailable(plugin, error, log, 'escalation');
  }
}
