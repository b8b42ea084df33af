import { Type } from 'typebox';
import { SecondFactorRequired, SessionTokens } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { htmlResponse, Redirect } from '../../contract/pages.ts';
import {
  SamlSettings,
  SamlSettingsOrNone,
  SsoLink,
  SsoLinked,
  SsoSecondFactorRequired,
  SsoSessionTokens,
} from '../../contract/sso.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { startLogin } from '../auth/saml-request.ts';
import {
  getSamlSettings,
  idpFromInput,
  type SamlSettingsRow,
  saveSamlSettings,
  serviceProviderDto,
  settingsDto,
} from '../auth/saml-settings.ts';
import { consumeSamlResponse, exchangeSamlCode, recordSamlFailure } from '../auth/saml-sign-in.ts';
import { signInBody, signInContext } from '../auth/sign-in.ts';
import { linkByOwner, linkWithCredential } from '../auth/sso-link.ts';
import { SSO_LINK_TTL_MS } from '../auth/sso-link-requests.ts';
import { TotpSecrets } from '../auth/totp-secrets.ts';
import { assertMayGrant, userDto } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, publicRoute, requires } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { RouteModule } from '../http/services.ts';

const OrgParams = Type.Object({ orgId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const LINK_URL = '/v1/sso/saml/link';
const tags = ['sso'];

const notLinked = (linkToken: string, expiresAt: Date) =>
  new ApiError(
    403,
    'SSO_ACCOUNT_NOT_LINKED',
    'This account has its own password or second factor and is not linked to your identity provider yet: confirm your password (and authenticator code) once at the link URL, or ask an owner to link it.',
    { linkToken, linkUrl: LINK_URL, expiresAt: expiresAt.toISOString() },
  );

/** SAML 2.0 single sign-on: per-org IdP settings, SP-initiated login and the assertion consumer. */
export const samlRoutes: RouteModule = (app, deps) => {
  samlSettingsRoutes(app, deps);
  samlSignInRoutes(app, deps);
  samlAcsRoutes(app, deps);
  samlLinkRoutes(app, deps);
};

async function settingsOf(
  db: Parameters<typeof getSamlSettings>[0],
  orgId: string,
): Promise<SamlSettingsRow> {
  const settings = await getSamlSettings(db, orgId);
  if (settings === null)
    throw new ApiError(404, 'SSO_NOT_CONFIGURED', 'This organisation has no SAML single sign-on configured.');
  return settings;
}

/** The org's IdP settings (org.manage to read, sso.manage to change). */
const samlSettingsRoutes: RouteModule = (app, { db, clock, config }) => {
  app.get(
    '/v1/sso/saml',
    {
      config: requires('org.manage'),
      schema: {
        summary: "The org's SAML settings",
        tags,
        response: { 200: SamlSettingsOrNone, ...errorResponses },
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      const settings = await getSamlSettings(db, orgId);
      return settings === null
        ? { configured: false as const, ...serviceProviderDto(config.publicUrl, orgId) }
        : settingsDto(settings, config.publicUrl);
    },
  );

  app.put(
    '/v1/sso/saml',
    {
      config: requires('sso.manage'),
      schema: {
        summary: "Set the org's SAML identity provider",
        description:
          'Send "metadataXml", or "idpEntityId", "ssoUrl" and "idpCertificate". Needs a recent sign-in.',
        tags,
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
        response: { 200: SamlSettings, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const now = clock();
      // Whoever sets the IdP can sign in as anyone it names: a stolen token or key must not do it.
      await requireRecentAuth(db, p, now);
      const body = request.body;
      const idp = idpFromInput(body);
      await assertMayGrant(db, p.orgId, body.defaultRole, p.permissions);
      const input = { orgId: p.orgId, idp, defaultRole: body.defaultRole, ssoOnly: body.ssoOnly ?? null };
      const row = await db.transaction((tx) =>
        saveSamlSettings(tx, { ...input, actor: p.actor, ip: request.ip }, now),
      );
      return settingsDto(row, config.publicUrl);
    },
  );
};

/** Who started a login: the extension (its state, if any) or the console, which must bind it to a state. */
function loginClient(query: { state?: string; return?: 'console' }) {
  const state = query.state ?? null;
  const returnTo = query.return ?? null;
  if (returnTo === 'console' && state === null)
    throw new ApiError(
      400,
      'STATE_REQUIRED',
      'A console sign-in must carry the state the console checks on its return; start it from the console.',
    );
  return { state, returnTo };
}

/** SP-initiated login, the page after the assertion consumer and the code exchange. */
const samlSignInRoutes: RouteModule = (app, { db, clock, config }) => {
  app.get(
    '/v1/sso/saml/:orgId/login',
    {
      config: publicRoute('starting SAML sign-in: redirects to the organisation’s identity provider'),
      schema: {
        summary: "Start SAML sign-in at the org's identity provider",
        description: 'Redirects (302) to the IdP with an AuthnRequest.',
        tags,
        params: OrgParams,
        // A client (the extension) may bind the sign-in to itself: the state comes back with the code.
        querystring: Type.Object(
          {
            state: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' })),
            // The admin console's sign-in: the code comes back to /admin, bound to the console's state.
            return: Type.Optional(Type.Literal('console')),
          },
          { additionalProperties: false },
        ),
        response: { 302: Redirect, ...errorResponses },
      },
    },
    async (request, reply) => {
      const settings = await settingsOf(db, request.params.orgId);
      const { state, returnTo } = loginClient(request.query);
      const { url } = await startLogin(db, settings, config.publicUrl, clock(), '', state, returnTo);
      return reply.redirect(url, 302);
    },
  );

  app.get(
    '/v1/sso/saml/done',
    {
      config: publicRoute('static page shown after SAML sign-in; the one-time code stays in the fragment'),
      schema: {
        summary: 'The page a browser lands on after SAML sign-in',
        tags,
        response: { 200: htmlResponse },
      },
    },
    async (_request, reply) =>
      sendPage(
        reply,
        'Signed in',
        html`<h1>You are signed in</h1><p>You are signed in to CRM Texting. You can close this tab.</p>`,
      ),
  );

  app.post(
    '/v1/sso/saml/exchange',
    {
      config: publicRoute('trading a one-time SAML code for a session: the code is the credential'),
      schema: {
        summary: 'Trade the one-time SAML code for a session',
        tags,
        body: Type.Object(
          { code: Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }) },
          { additionalProperties: false },
        ),
        response: { 200: SsoSecondFactorRequired, 201: SsoSessionTokens, ...errorResponses },
      },
    },
    async (request, reply) => {
      const ctx = signInContext(request, clock());
      const signedIn = await exchangeSamlCode(db, request.body.code, ctx);
      if (signedIn === null)
        throw new ApiError(
          401,
          'INVALID_CODE',
          'The sign-in code is unknown, used or expired; sign in again.',
        );
      // The client knows the account only from here (the IdP asked for the address, not the extension).
      const answer = signInBody(signedIn.step);
      return reply.code(answer.status).send({ ...answer.body, email: signedIn.email });
    },
  );
};

/** The assertion consumer service: where the IdP posts its signed answer. */
const samlAcsRoutes: RouteModule = (app, { db, clock, config }) => {
  app.post(
    '/v1/sso/saml/:orgId/acs',
    {
      config: {
        ...publicRoute('SAML assertion consumer: the IdP-signed assertion is the credential'),
        formBody: "SAML's HTTP-POST binding: the IdP's page submits a form",
      },
      schema: {
        summary: 'SAML assertion consumer service',
        description:
          'A browser (Accept: text/html) is redirected (303) to /v1/sso/saml/done with a one-time code in the fragment; an API client gets a session (201) or the second step (200).',
        tags,
        params: OrgParams,
        body: Type.Object(
          {
            SAMLResponse: Type.String({ minLength: 1, maxLength: 60_000 }),
            RelayState: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SecondFactorRequired, 201: SessionTokens, 303: Redirect, ...errorResponses },
      },
    },
    async (request, reply) => {
      const settings = await settingsOf(db, request.params.orgId);
      const ctx = signInContext(request, clock());
      // A browser (the IdP's auto-submitted form) is redirected with a one-time code in the
      // fragment, which the extension reads from the tab and trades at /v1/sso/saml/exchange.
      const browser = /text\/html/.test(request.headers.accept ?? '');
      const input = {
        settings,
        publicUrl: config.publicUrl,
        samlResponse: request.body.SAMLResponse,
        browser,
      };
      const outcome = await consumeSamlResponse(db, input, ctx);
      if (outcome.kind === 'signed_in') {
        const answer = signInBody(outcome.step);
        return reply.code(answer.status).send(answer.body);
      }
      const state = outcome.clientState === null ? '' : `&state=${outcome.clientState}`;
      // Only the relay's own pages: the console (whose sign-in asked for it) or the extension's.
      const done =
        outcome.returnTo === 'console'
          ? `${config.publicUrl}/admin#/sso-return?`
          : `${config.publicUrl}/v1/sso/saml/done#`;
      if (outcome.kind === 'code') return reply.redirect(`${done}code=${outcome.code}${state}`, 303);
      const refusal = notLinked(outcome.linkToken, new Date(ctx.now.getTime() + SSO_LINK_TTL_MS));
      await recordSamlFailure(db, settings.org_id, refusal.code, ctx);
      if (!browser) throw refusal;
      return reply.redirect(`${done}error=${refusal.code}&linkToken=${outcome.linkToken}${state}`, 303);
    },
  );
};

/** Linking an existing account to the IdP subject that named it: by its holder, or by an owner. */
const samlLinkRoutes: RouteModule = (app, { db, clock, config }) => {
  const totpSecrets = new TotpSecrets(db, config);

  app.post(
    LINK_URL,
    {
      config: publicRoute(
        'linking an account to the IdP subject that named it: the link token plus the account’s own password (and authenticator code) are the credential',
      ),
      schema: {
        summary: 'Link your account to your identity provider',
        description:
          'The link token from SSO_ACCOUNT_NOT_LINKED, with the account password (and authenticator code).',
        tags,
        body: Type.Object(
          {
            linkToken: LinkToken,
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            code: Type.Optional(Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SsoLinked, ...errorResponses },
      },
    },
    async (request) => {
      const ctx = { ip: request.ip, now: clock() };
      const linked = await linkWithCredential({ db, totpSecrets, log: request.log }, request.body, ctx);
      // Linked, not signed in: the next SSO sign-in opens the session (and asks the second factor).
      return { linked: true as const, email: linked.email };
    },
  );

  app.post(
    '/v1/users/:id/sso-link',
    {
      config: requires('sso.manage'),
      schema: {
        summary: 'Link a user to an IdP subject (NameID)',
        description: 'Needs a recent sign-in; nobody links an account that may do more than they.',
        tags,
        params: UserParams,
        body: Type.Object(
          { nameId: Type.String({ minLength: 1, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: SsoLink, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const now = clock();
      await requireRecentAuth(db, p, now);
      const settings = await settingsOf(db, p.orgId);
      const nameId = request.body.nameId.trim();
      if (nameId === '') throw new ApiError(422, 'INVALID_NAME_ID', 'The NameID is empty.');
      const owner = { orgId: p.orgId, actor: p.actor, permissions: p.permissions, ip: request.ip };
      const target = { userId: request.params.id, idpEntityId: settings.idp_entity_id, nameId };
      const user = await db.transaction((tx) => linkByOwner(tx, owner, target, now));
      const linkedAt = user.sso_linked_at === null ? null : new Date(user.sso_linked_at).toISOString();
      return {
        user: userDto(user),
        sso: { idpEntityId: user.sso_idp_entity_id, nameId: user.sso_name_id, linkedAt },
      };
    },
  );
};
