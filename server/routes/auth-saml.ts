import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import {
  checkSsoUrl,
  consumeAssertion,
  consumeSamlCode,
  getSamlSettings,
  issueSamlCode,
  normalizeCertificate,
  parseIdpMetadata,
  type SamlSettingsRow,
  settingsDto,
  startLogin,
  startSamlSession,
  userForAssertion,
  verifyResponse,
} from '../auth/saml.ts';
import type { IssuedTokens } from '../auth/sessions.ts';
import { assertMayGrant } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, publicRoute, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';

const OrgParams = Type.Object({ orgId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

function tokensBody(t: IssuedTokens) {
  return {
    sessionId: t.sessionId,
    accessToken: t.accessToken,
    accessTokenExpiresAt: t.accessExpiresAt,
    refreshToken: t.refreshToken,
    ...(t.stage === 'enrol' ? { secondFactorEnrolmentRequired: true } : {}),
  };
}

const DONE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body><p>You are signed in to CRM Texting. You can close this tab.</p></body></html>`;

const notConfigured = () =>
  new ApiError(404, 'SSO_NOT_CONFIGURED', 'This organisation has no SAML single sign-on configured.');

/** SAML 2.0 single sign-on: per-org IdP settings, SP-initiated login and the assertion consumer. */
export const samlRoutes: RouteModule = (app, { db, clock, config }) => {
  async function settingsOf(orgId: string): Promise<SamlSettingsRow> {
    const settings = await getSamlSettings(db, orgId);
    if (settings === null) throw notConfigured();
    return settings;
  }

  app.get('/v1/sso/saml', { config: requires('org.manage') }, async (request) => {
    const settings = await getSamlSettings(db, principalOf(request).orgId);
    return settings === null ? { configured: false } : settingsDto(settings, config.publicUrl);
  });

  app.put(
    '/v1/sso/saml',
    {
      config: requires('org.manage'),
      schema: {
        body: Type.Object(
          {
            metadataXml: Type.Optional(Type.String({ minLength: 1, maxLength: 60_000 })),
            idpEntityId: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
            ssoUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
            idpCertificate: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
            defaultRole: Type.String({ minLength: 1, maxLength: 40 }),
            // Left as it was when omitted (false for a new configuration).
            ssoOnly: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const p = principalOf(request);
      const body = request.body;
      let idp: { idpEntityId: string; ssoUrl: string; idpCert: string };
      if (body.metadataXml !== undefined) {
        if (body.idpEntityId !== undefined || body.ssoUrl !== undefined || body.idpCertificate !== undefined)
          throw new ApiError(
            400,
            'METADATA_OR_FIELDS',
            'Send either "metadataXml" or "idpEntityId", "ssoUrl" and "idpCertificate", not both.',
          );
        idp = parseIdpMetadata(body.metadataXml);
      } else {
        if (body.idpEntityId === undefined || body.ssoUrl === undefined || body.idpCertificate === undefined)
          throw new ApiError(
            400,
            'METADATA_OR_FIELDS',
            'Send "metadataXml", or all of "idpEntityId", "ssoUrl" and "idpCertificate".',
          );
        idp = {
          idpEntityId: body.idpEntityId,
          ssoUrl: checkSsoUrl(body.ssoUrl),
          idpCert: normalizeCertificate(body.idpCertificate),
        };
      }
      await assertMayGrant(db, p.orgId, body.defaultRole, p.permissions);
      const [row] = await db.query<SamlSettingsRow>(
        `INSERT INTO saml_settings (org_id, idp_entity_id, sso_url, idp_cert, default_role, sso_only, updated_at)
         VALUES ($1, $2, $3, $4, $5, coalesce($6, false), $7)
         ON CONFLICT (org_id) DO UPDATE SET idp_entity_id = $2, sso_url = $3, idp_cert = $4,
           default_role = $5, sso_only = coalesce($6, saml_settings.sso_only), updated_at = $7
         RETURNING *`,
        [p.orgId, idp.idpEntityId, idp.ssoUrl, idp.idpCert, body.defaultRole, body.ssoOnly ?? null, clock()],
      );
      return settingsDto(row as SamlSettingsRow, config.publicUrl);
    },
  );

  app.get(
    '/v1/sso/saml/:orgId/login',
    {
      config: publicRoute('starting SAML sign-in: redirects to the organisation’s identity provider'),
      schema: {
        params: OrgParams,
        // A client (the extension) may bind the sign-in to itself: the state comes back with the code.
        querystring: Type.Object(
          { state: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const settings = await settingsOf(request.params.orgId);
      const { url } = await startLogin(
        db,
        settings,
        config.publicUrl,
        clock(),
        '',
        request.query.state ?? null,
      );
      return reply.redirect(url, 302);
    },
  );

  app.post(
    '/v1/sso/saml/:orgId/acs',
    {
      config: {
        ...publicRoute('SAML assertion consumer: the IdP-signed assertion is the credential'),
        formBody: "SAML's HTTP-POST binding: the IdP's page submits a form",
      },
      schema: {
        params: OrgParams,
        body: Type.Object(
          {
            SAMLResponse: Type.String({ minLength: 1, maxLength: 60_000 }),
            RelayState: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const settings = await settingsOf(request.params.orgId);
      const now = clock();
      try {
        const verified = await verifyResponse(settings, config.publicUrl, request.body.SAMLResponse, now);
        // A browser (the IdP's auto-submitted form) is redirected with a one-time code in the
        // fragment, which the extension reads from the tab and trades at /v1/sso/saml/exchange.
        const browser = /text\/html/.test(request.headers.accept ?? '');
        const outcome = await db.transaction(async (tx) => {
          const { clientState } = await consumeAssertion(tx, settings.org_id, verified, now);
          const user = await userForAssertion(tx, settings, verified.email, now);
          if (browser) return { code: await issueSamlCode(tx, user, now), clientState };
          return { tokens: await startSamlSession(tx, user, now, request.ip, request.headers['user-agent']) };
        });
        if ('code' in outcome) {
          const state = outcome.clientState === null ? '' : `&state=${outcome.clientState}`;
          return reply.redirect(`${config.publicUrl}/v1/sso/saml/done#code=${outcome.code}${state}`, 303);
        }
        return reply.code(201).send(tokensBody(outcome.tokens));
      } catch (error) {
        if (error instanceof ApiError)
          await recordAuthEvent(db, {
            orgId: settings.org_id,
            userId: null,
            actor: 'anonymous',
            kind: 'sign_in_failed',
            detail: { method: 'saml', code: error.code },
            ip: request.ip,
            at: now,
          });
        throw error;
      }
    },
  );

  app.get(
    '/v1/sso/saml/done',
    { config: publicRoute('static page shown after SAML sign-in; the one-time code stays in the fragment') },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(DONE_PAGE),
  );

  app.post(
    '/v1/sso/saml/exchange',
    {
      config: publicRoute('trading a one-time SAML code for a session: the code is the credential'),
      schema: {
        body: Type.Object(
          { code: Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const now = clock();
      const signedIn = await db.transaction(async (tx) => {
        const user = await consumeSamlCode(tx, request.body.code, now);
        if (user === null) return null;
        const tokens = await startSamlSession(tx, user, now, request.ip, request.headers['user-agent']);
        return { tokens, email: user.email };
      });
      if (signedIn === null)
        throw new ApiError(
          401,
          'INVALID_CODE',
          'The sign-in code is unknown, used or expired; sign in again.',
        );
      // The client knows the account only from here (the IdP asked for the address, not the extension).
      return reply.code(201).send({ ...tokensBody(signedIn.tokens), email: signedIn.email });
    },
  );
};
