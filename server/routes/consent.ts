import { Type } from 'typebox';
import { ConsentRecordedSchema, ConsentStandingSchema } from '../../contract/consent.ts';
import { errorResponses } from '../../contract/errors.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type Principal, phoneFor, principalOf, requires, textFor } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { orgPhone } from '../organisations/org-phone.ts';
import { flagForReview } from '../review/review-items.ts';
import { consentSettings, lockConsent } from '../stores/consent-queries.ts';
import {
  consentHistory,
  currentConsent,
  failQueuedAfterOptOut,
  recordConsent,
} from '../stores/consent-store.ts';
import { closeOptInRequest, pendingOptIn, requestOptIn } from '../stores/opt-in-requests.ts';
import { phoneToken } from '../stores/phone-columns.ts';
import { PhoneInput } from './schemas.ts';

/** How much an override must say: who asked, when and how, in a sentence. */
const OVERRIDE_EVIDENCE_MIN = 20;

/**
 * Who may record what, before anything is read: CRM imports come from integrations (an API key
 * bound to no person), never from a signed-in person; an override needs consent.override, an
 * opt-in, and written evidence.
 */
function checkConsentAuthority(
  principal: Principal,
  body: { kind: 'opt_in' | 'opt_out'; source: string; override?: boolean | undefined },
  evidence: string,
): void {
  if (body.source === 'crm_import' && (principal.keyId === null || principal.userId !== null)) {
    throw new ApiError(
      403,
      'CRM_IMPORT_INTEGRATION_ONLY',
      'Only an integration (an API key not bound to a person) may record consent as imported from the CRM. Record what the customer told you with source "verbal", "web_form" or "api".',
    );
  }
  if (body.override !== true) return;
  if (!principal.permissions.includes('consent.override')) {
    throw new ApiError(
      403,
      'FORBIDDEN',
      'Re-opening texting to a customer who opted out needs the consent.override permission (owners and compliance reviewers).',
      { permission: 'consent.override' },
    );
  }
  if (body.kind !== 'opt_in') {
    throw new ApiError(422, 'OVERRIDE_NOT_APPLICABLE', 'Only an opt-in can override an opt-out.');
  }
  if (evidence.length < OVERRIDE_EVIDENCE_MIN) {
    throw new ApiError(
      422,
      'OVERRIDE_EVIDENCE_REQUIRED',
      `An override needs written evidence of at least ${OVERRIDE_EVIDENCE_MIN} characters: who asked to be texted again, when and how.`,
      { minLength: OVERRIDE_EVIDENCE_MIN },
    );
  }
}

/** A customer's consent, its pending opt-in and its ledger, as the principal may see them. */
async function consentStanding(db: Queryable, principal: Principal, phone: string) {
  const { orgId } = principal;
  const consent = await currentConsent(db, orgId, phone);
  return {
    phone: phoneFor(principal, phone),
    status: consent.status,
    since: consent.since?.toISOString() ?? null,
    source: consent.source,
    pendingOptIn: await pendingOptIn(db, orgId, phone).then((p) =>
      p === null ? null : { source: p.source, requestedAt: p.createdAt.toISOString() },
    ),
    // The ledger's words are evidence, but the numbers in them are PII like the phone itself.
    events: (await consentHistory(db, orgId, phone)).map((event) => ({
      ...event,
      evidence: textFor(principal, event.evidence),
      actor: textFor(principal, event.actor),
      actorName: textFor(principal, event.actorName),
      classification: event.classification === null ? null : textFor(principal, event.classification),
    })),
  };
}

/** A consent record as asked for, once its phone, evidence and authority were checked. */
interface ConsentRequest {
  principal: Principal;
  phone: string;
  evidence: string;
  body: { kind: 'opt_in' | 'opt_out'; source: ConsentSource; override?: boolean | undefined };
  ip: string;
  now: Date;
}

type ConsentSource = 'api' | 'web_form' | 'verbal' | 'crm_import';

/**
 * Records the consent inside the caller's transaction; true when a double opt-in question was
 * sent instead and the customer's YES is awaited.
 */
async function recordConsentRequest(
  tx: Queryable,
  sms: Deps['sms'],
  { principal, phone, evidence, body, ip, now }: ConsentRequest,
): Promise<boolean> {
  await lockConsent(tx, principal.orgId, phone);
  const before = await currentConsent(tx, principal.orgId, phone);
  const reopens = body.kind === 'opt_in' && before.status === 'opted_out';
  if (reopens && body.override !== true) {
    // STOP is absolute: only the customer takes it back (START, or YES to a double opt-in
    // question they asked for), whatever a rep, a key or "the CRM" says.
    throw new ApiError(
      409,
      'CUSTOMER_OPTED_OUT',
      'This customer opted out. Only they can opt back in (by texting START to your number). Someone with the consent.override permission can re-open texting with written evidence; it is audited.',
      { optedOutAt: before.since?.toISOString() ?? null, source: before.source },
    );
  }
  if (reopens) {
    await recordAuthEvent(tx, {
      orgId: principal.orgId,
      userId: principal.userId,
      actor: principal.actor,
      kind: 'consent_override',
      detail: { phone, source: body.source, evidence, optedOutAt: before.since?.toISOString() },
      ip,
      at: now,
    });
  }
  // Double opt-in: an opt-in a person recorded waits for the customer's YES (imports from
  // an integration carry their own evidence; an audited override is its own record).
  if (body.kind === 'opt_in' && body.source !== 'crm_import' && !reopens) {
    const settings = await consentSettings(tx, principal.orgId);
    if (settings.doubleOptIn && before.status !== 'opted_in') {
      const asked = await requestOptIn(tx, {
        orgId: principal.orgId,
        phone,
        source: body.source,
        evidence,
        actor: principal.actor,
        question: settings.optInRequest,
        provider: sms.name,
        now,
      });
      if (!asked) {
        throw new ApiError(
          409,
          'NO_SENDER_NUMBER',
          'Double opt-in needs a sender number to ask the customer from; add one first.',
        );
      }
      return true;
    }
  }
  await recordConsent(tx, {
    orgId: principal.orgId,
    phone,
    kind: body.kind,
    source: body.source,
    evidence,
    actor: principal.actor,
    at: now,
    ...(reopens ? { classification: `opt-out overridden by ${principal.actor} (consent.override)` } : {}),
  });
  if (reopens) await flagOverride(tx, principal, phone, body.source, now);
  if (body.kind === 'opt_out') {
    await failQueuedAfterOptOut(tx, principal.orgId, phone);
    await closeOptInRequest(tx, principal.orgId, phone, { status: 'superseded' });
  }
  return false;
}

/** An opt-out overridden goes to the review queue, besides the ledger's own record. */
function flagOverride(tx: Queryable, principal: Principal, phone: string, source: string, now: Date) {
  return flagForReview(tx, {
    orgId: principal.orgId,
    kind: 'override',
    reason: `opt-out overridden: texting re-opened (${source})`,
    dedupeKey: `consent:${phoneToken(tx, phone)}:${now.toISOString()}`,
    userId: principal.userId,
    actor: principal.actor,
    phone,
    at: now,
  });
}

/** An opt-in or opt-out to record; the phone as the rep typed it. */
const ConsentBody = Type.Object(
  {
    phone: PhoneInput,
    kind: Type.Union([Type.Literal('opt_in'), Type.Literal('opt_out')]),
    source: Type.Union([
      Type.Literal('api'),
      Type.Literal('web_form'),
      Type.Literal('verbal'),
      Type.Literal('crm_import'),
    ]),
    evidence: Type.String({ minLength: 3, maxLength: 2000 }),
    /**
     * Re-open texting to a customer who opted out (permission consent.override, written
     * evidence of at least OVERRIDE_EVIDENCE_MIN characters); audited.
     */
    override: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const consentRoutes: RouteModule = (app, { db, sms, notifier, clock }) => {
  app.get(
    '/v1/consent/:phone',
    {
      config: requires('consent.view'),
      schema: {
        summary: "Read a customer's consent and its ledger",
        tags: ['consent'],
        params: Type.Object({ phone: PhoneInput }),
        response: { 200: ConsentStandingSchema, ...errorResponses },
        'x-error-codes': ['INVALID_PHONE_NUMBER'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return consentStanding(
        db,
        principal,
        await orgPhone(db, principal.orgId, 'phone', request.params.phone),
      );
    },
  );

  app.post(
    '/v1/consent',
    {
      config: requires('consent.record'),
      schema: {
        summary: 'Record an opt-in or opt-out',
        description:
          'Appends to the consent ledger. With double opt-in, an opt-in asks the customer first (202). Re-opening an opted-out customer needs override, consent.override and written evidence; it is audited.',
        tags: ['consent'],
        response: { 201: ConsentRecordedSchema, 202: ConsentRecordedSchema, ...errorResponses },
        'x-error-codes': [
          'INVALID_PHONE_NUMBER',
          'EVIDENCE_REQUIRED',
          'CRM_IMPORT_INTEGRATION_ONLY',
          'OVERRIDE_NOT_APPLICABLE',
          'OVERRIDE_EVIDENCE_REQUIRED',
          'CUSTOMER_OPTED_OUT',
          'NO_SENDER_NUMBER',
        ],
        body: ConsentBody,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const phone = await orgPhone(db, principal.orgId, 'phone', request.body.phone);
      const evidence = request.body.evidence.trim();
      if (evidence.length < 3) {
        throw new ApiError(422, 'EVIDENCE_REQUIRED', 'Describe the evidence of consent (who, when, how).');
      }
      checkConsentAuthority(principal, request.body, evidence);
      const asked = { principal, phone, evidence, body: request.body, ip: request.ip, now: clock() };
      const pending = await db.transaction((tx) => recordConsentRequest(tx, sms, asked));
      const consent = await currentConsent(db, principal.orgId, phone);
      if (pending) notifier.announce();
      return reply.code(pending ? 202 : 201).send({
        phone: phoneFor(principal, phone),
        status: consent.status,
        since: consent.since?.toISOString() ?? null,
        ...(pending ? { pendingConfirmation: true } : {}),
      });
    },
  );
};
