import { Type } from 'typebox';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import {
  consentHistory,
  currentConsent,
  failQueuedAfterOptOut,
  recordConsent,
} from '../messaging/consent-store.ts';
import { checkE164 } from '../phone.ts';
import { E164 } from './schemas.ts';

function validPhone(phone: string): string {
  const check = checkE164(phone);
  if (!check.ok)
    throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"phone" ${check.reason}.`, { field: 'phone' });
  return check.e164;
}

export const consentRoutes: RouteModule = (app, { db }) => {
  app.get(
    '/v1/consent/:phone',
    { config: requires('consent.view'), schema: { params: Type.Object({ phone: E164 }) } },
    async (request) => {
      const { orgId } = principalOf(request);
      const phone = validPhone(request.params.phone);
      const consent = await currentConsent(db, orgId, phone);
      return {
        phone,
        status: consent.status,
        since: consent.since?.toISOString() ?? null,
        source: consent.source,
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
      await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${principal.orgId}:${phone}`]);
        await recordConsent(tx, {
          orgId: principal.orgId,
          phone,
          kind: request.body.kind,
          source: request.body.source,
          evidence,
          actor: `api-key:${principal.keyId}`,
        });
        if (request.body.kind === 'opt_out') await failQueuedAfterOptOut(tx, principal.orgId, phone);
      });
      const consent = await currentConsent(db, principal.orgId, phone);
      return reply
        .code(201)
        .send({ phone, status: consent.status, since: consent.since?.toISOString() ?? null });
    },
  );
};
