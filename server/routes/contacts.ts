import { type Static, Type } from 'typebox';
import { ContactLookupSchema } from '../../contract/contacts.ts';
import { errorResponses } from '../../contract/errors.ts';
import { deriveConsent } from '../compliance/consent.ts';
import { type Principal, phoneFor, principalOf, requires, textFor } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { findCrmContact } from '../sending-check/crm-recipient.ts';
import { recipientLocalTime, recipientStanding } from '../sending-check/outbound-check.ts';
import { consentHistory } from '../stores/consent-store.ts';
import { pendingOptIn } from '../stores/opt-in-requests.ts';
import { CrmIdSchema, CrmRecordId, ObjectType } from './schemas.ts';

/** A CRM contact's name, first phone, local time and consent standing, as the principal may see them. */
async function contactLookup(
  { db, crm, clock }: Pick<Deps, 'db' | 'crm' | 'clock'>,
  principal: Principal,
  query: { crm: Static<typeof CrmIdSchema>; objectType: Static<typeof ObjectType>; id: string },
) {
  const { orgId } = principal;
  const { crm: crmId, objectType, id } = query;
  const contact = await findCrmContact(await crm.forOrg(orgId), { crm: crmId, objectType, id });
  const phone = contact.phones[0] ?? null;
  const [history, pending, standing] =
    phone === null
      ? [[], null, { pause: null, storedTimeZone: null }]
      : await Promise.all([
          consentHistory(db, orgId, phone),
          pendingOptIn(db, orgId, phone),
          recipientStanding(db, orgId, phone, contact.ref),
        ]);
  const latest = history[0];
  const consent = deriveConsent(
    latest === undefined
      ? []
      : [{ kind: latest.kind, source: latest.source, occurredAt: new Date(latest.occurredAt) }],
  );
  const { pause } = standing;
  // Who recorded consent, how and with what words is the ledger's to show (consent.view).
  const ledger = latest !== undefined && principal.permissions.includes('consent.view') ? latest : null;
  return {
    contact: {
      crm: contact.ref.crm,
      objectType: contact.ref.objectType,
      id: contact.ref.id,
      name: contact.name,
      phone: phoneFor(principal, phone),
      timeZone: contact.timeZone,
      // Resolved as quiet hours resolve it for a send: the stored zone, the CRM's, the area code.
      localTime:
        phone === null
          ? null
          : recipientLocalTime(phone, standing.storedTimeZone ?? contact.timeZone, clock()),
    },
    consent: {
      status: consent.status,
      updatedAt: consent.since?.toISOString() ?? null,
      source: consent.source,
      evidence:
        ledger === null
          ? null
          : {
              kind: ledger.kind,
              source: ledger.source,
              evidence: ledger.evidence === '' ? null : textFor(principal, ledger.evidence),
              actor: ledger.actor === '' ? null : textFor(principal, ledger.actorName),
              at: ledger.occurredAt,
            },
      pendingOptIn:
        pending === null ? null : { source: pending.source, requestedAt: pending.createdAt.toISOString() },
      review:
        pause === null
          ? null
          : {
              reviewId: pause.reviewId,
              reason: textFor(principal, pause.reason),
              since: pause.since.toISOString(),
            },
    },
  };
}

export const contactsRoutes: RouteModule = (app, deps) => {
  app.get(
    '/v1/contacts/lookup',
    {
      config: requires('contacts.view'),
      schema: {
        summary: 'Look up a CRM contact',
        description: "The record's name, first phone, local time and consent standing.",
        tags: ['contacts'],
        response: { 200: ContactLookupSchema, ...errorResponses },
        querystring: Type.Object(
          { crm: CrmIdSchema, objectType: ObjectType, id: CrmRecordId },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => contactLookup(deps, principalOf(request), request.query),
  );
};
