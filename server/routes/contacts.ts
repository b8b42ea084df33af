import { type Static, Type } from 'typebox';
import { ContactLookupSchema, RevealedContactPhoneSchema } from '../../contract/contacts.ts';
import { errorResponses } from '../../contract/errors.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { deriveConsent } from '../compliance/consent.ts';
import { ApiError } from '../errors.ts';
import { type Principal, phoneFor, principalOf, requires, textFor } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { maskPhone } from '../phone.ts';
import { findCrmContact } from '../sending-check/crm-recipient.ts';
import { recipientLocalTime, recipientStanding } from '../sending-check/outbound-check.ts';
import { consentHistory } from '../stores/consent-store.ts';
import { rememberContactName } from '../stores/contact-names.ts';
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
          // The inbox names a conversation as the CRM does: the name is kept whenever a rep opens it.
          rememberContactName(db, orgId, contact, phone),
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

const ContactRefQuery = Type.Object(
  { crm: CrmIdSchema, objectType: ObjectType, id: CrmRecordId },
  { additionalProperties: false },
);

/**
 * A CRM contact's first phone unmasked, for a principal without pii.view but with pii.reveal. The
 * auth log records who saw whose number and when (the number itself only masked: the log is not a
 * second copy of the CRM's phone book).
 */
async function revealContactPhone(
  { db, crm, clock }: Pick<Deps, 'db' | 'crm' | 'clock'>,
  principal: Principal,
  ref: Static<typeof ContactRefQuery>,
  ip: string,
) {
  const contact = await findCrmContact(await crm.forOrg(principal.orgId), ref);
  const phone = contact.phones[0];
  if (phone === undefined) {
    throw new ApiError(404, 'NO_PHONE_NUMBER', `${contact.name} has no phone number in the CRM.`);
  }
  const { crm: crmId, objectType, id } = contact.ref;
  await recordAuthEvent(db, {
    orgId: principal.orgId,
    userId: principal.userId,
    actor: principal.actor,
    kind: 'reveal',
    detail: { contact: { crm: crmId, objectType, id }, phone: maskPhone(phone) },
    ip,
    at: clock(),
  });
  return { contact: { crm: crmId, objectType, id }, phone };
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
        querystring: ContactRefQuery,
      },
    },
    async (request) => contactLookup(deps, principalOf(request), request.query),
  );

  app.post(
    '/v1/contacts/reveal',
    {
      config: requires('pii.reveal'),
      schema: {
        summary: "Reveal a CRM contact's phone number",
        description:
          "The record's first phone unmasked, for a principal without pii.view; every reveal is recorded in the auth log.",
        tags: ['contacts'],
        body: ContactRefQuery,
        response: { 200: RevealedContactPhoneSchema, ...errorResponses },
        'x-error-codes': ['CONTACT_NOT_FOUND', 'NO_PHONE_NUMBER', 'CRM_NOT_CONNECTED', 'CRM_UNAVAILABLE'],
      },
    },
    async (request) => revealContactPhone(deps, principalOf(request), request.body, request.ip),
  );
};
