import { Type } from 'typebox';
import { parseOrgSettings } from '../compliance/org-settings.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { phoneFor, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import {
  closeOptInRequest,
  consentHistory,
  currentConsent,
  failQueuedAfterOptOut,
  pendingOptIn,
  recordConsent,
  requestOptIn,
} from '../messaging/consent-store.ts';
import { checkE164 } from '../phone.ts';
import { E164 } from './schemas.ts';

function validPhone(phone: string): string {
  const check = checkE164(phone);
  if (!check.ok)
    throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"phone" ${check.reason}.`, { field: 'phone' });
  return check.e164;
}

async function orgSettings(tx: Queryable, orgId: string) {
  const rows = await tx.query<{ name: string; settings: unknown }>(
    'SELECT name, settings FROM orgs WHERE id = $1',
    [orgId],
  );
  return parseOrgSettings(rows[0]?.name ?? '', rows[0]?.settings);
}

export const consentRoutes: RouteModule = (app, { db, sms, notifier, clock }) => {
  app.get(
    '/v1/consent/:phone',
    { config: requires('consent.view'), schema: { params: Type.Object({ phone: E164 }) } },
    async (request) => {
      const principal = principalOf(request);
      const { orgId } = principal;
      const phone = validPhone(request.params.phone);
      const consent = await currentConsent(db, orgId, phone);
      return {
        phone: phoneFor(principal, phone),
        status: consent.status,
        since: consent.since?.toISOString() ?? null,
        source: consent.source,
        pendingOptIn: await pendingOptIn(db, orgId, phone).then((p) =>
          p === null ? null : { source: p.source, requestedAt: p.createdAt.toISOString() },
        ),
        events: await consentHistory(db, orgId, phone),
      };
    },
  );

  app.post(
    '/v1/consent',
    {
      config: requires('consent.record'),
      schema: {
        body: Type.Object(
          {
            phone: E164,
            kind: Type.Union([Type.Literal('opt_in'), Type.Literal('opt_out')]),
            source: Type.Union([
              Type.Literal('api'),
              Type.Literal('web_form'),
              Type.Literal('verbal'),
              Type.Literal('crm_import'),
            ]),
            evidence: Type.String({ minLength: 3, maxLength: 2000 }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const phone = validPhone(request.body.phone);
      const evidence = request.body.evidence.trim();
      if (evidence.length < 3) {
        throw new ApiError(422, 'EVIDENCE_REQUIRED', 'Describe the evidence of consent (who, when, how).');
      }
      const now = clock();
      const pending = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${principal.orgId}:${phone}`]);
        // Double opt-in: an opt-in a person recorded waits for the customer's YES (CRM imports
        // carry their own evidence and are not re-asked).
        if (request.body.kind === 'opt_in' && request.body.source !== 'crm_import') {
          const settings = await orgSettings(tx, principal.orgId);
          if (
            settings.doubleOptIn &&
            (await currentConsent(tx, principal.orgId, phone)).status !== 'opted_in'
          ) {
            const asked = await requestOptIn(tx, {
              orgId: principal.orgId,
              phone,
              source: request.body.source,
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
          kind: request.body.kind,
          source: request.body.source,
          evidence,
          actor: principal.actor,
          at: now,
        });
        if (request.body.kind === 'opt_out') {
          await failQueuedAfterOptOut(tx, principal.orgId, phone);
          await closeOptInRequest(tx, principal.orgId, phone, { status: 'superseded' });
        }
        return false;
      });
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
