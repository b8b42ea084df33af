import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { hasPasskey } from '../auth/passkeys.ts';
import { verifyPassword } from '../auth/passwords.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import {
  accountForAssertion,
  checkSsoUrl,
  consumeAssertion,
  consumeSamlCode,
  getSamlSettings,
  issueSamlCode,
  linkSsoIdentity,
  normalizeCertificate,
  parseIdpMetadata,
  type SamlSettingsRow,
  type SamlSignIn,
  samlSignIn,
  saveSamlSettings,
  settingsDto,
  startLogin,
  verifyResponse,
} from '../auth/saml.ts';
import type { IssuedTokens } from '../auth/sessions.ts';
import {
  consumeSsoLinkRequest,
  issueSsoLinkRequest,
  pendingSsoLinkRequest,
  SSO_LINK_TTL_MS,
} from '../auth/sso-link-requests.ts';
import { checkUnderLimits, ssoLinkLimits } from '../auth/throttle.ts';
import { redeemTotpCode, TotpSecrets } from '../auth/totp-secrets.ts';
import { assertMayGrant, type UserRow, userDto } from '../auth/users.ts';
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

/** The JSON answer of an SSO sign-in: a session (201) or the second step it still needs (200). */
function signInBody(s: SamlSignIn) {
  return s.kind === 'session'
    ? { status: 201, body: tokensBody(s.tokens) }
    : { status: 200, body: { mfaRequired: true, mfaToken: s.mfaToken, factors: s.factors } };
}

const LINK_URL = '/v1/sso/saml/link';
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

const notLinked = (linkToken: string, expiresAt: Date) =>
  new ApiError(
    403,
    'SSO_ACCOUNT_NOT_LINKED',
    'This account has its own password or second factor and is not linked to your identity provider yet: confirm your password (and authenticator code) once at the link URL, or ask an owner to link it.',
    { linkToken, linkUrl: LINK_URL, expiresAt: expiresAt.toISOString() },
  );

const invalidLinkToken = () =>
  new ApiError(
    401,
    'INVALID_LINK_TOKEN',
    'The link token is unknown, used or expired; sign in through SSO again.',
  );

const DONE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body><p>You are signed in to CRM Texting. You can close this tab.</p></body></html>`;

const notConfigured = () =>
  new ApiError(404, 'SSO_NOT_CONFIGURED', 'This organisation has no SAML single sign-on configured.');

/** SAML 2.0 single sign-on: per-org IdP settings, SP-initiated login and the assertion consumer. */
export const samlRoutes: RouteModule = (app, { db, clock, config }) => {
  const totpSecrets = new TotpSecrets(db, config);

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
      config: requires('sso.manage'),
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
      const now = clock();
      // Whoever sets the IdP can sign in as anyone it names: a stolen token or key must not do it.
      await requireRecentAuth(db, p, now);
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
      const row = await db.transaction((tx) =>
        saveSamlSettings(
          tx,
          {
            orgId: p.orgId,
            idp,
            defaultRole: body.defaultRole,
            ssoOnly: body.ssoOnly ?? null,
            actor: p.actor,
            ip: request.ip,
          },
          now,
        ),
      );
      return settingsDto(row, config.publicUrl);
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
          const account = await accountForAssertion(tx, settings, verified, now);
          if (account.kind === 'not_linked') {
            // The assertion stays used; the holder may link the account to its subject instead.
            const linkToken = await issueSsoLinkRequest(
              tx,
              {
                orgId: settings.org_id,
                userId: account.user.id,
                idpEntityId: settings.idp_entity_id,
                nameId: verified.nameId,
              },
              now,
            );
            return { kind: 'not_linked' as const, linkToken, clientState };
          }
          if (browser)
            return { kind: 'code' as const, code: await issueSamlCode(tx, account.user, now), clientState };
          return {
            kind: 'signed_in' as const,
            signIn: await samlSignIn(tx, account.user, now, request.ip, request.headers['user-agent']),
          };
        });
        if (outcome.kind === 'signed_in') {
          const answer = signInBody(outcome.signIn);
          return reply.code(answer.status).send(answer.body);
        }
        const state = outcome.clientState === null ? '' : `&state=${outcome.clientState}`;
        if (outcome.kind === 'not_linked') {
          const refusal = notLinked(outcome.linkToken, new Date(now.getTime() + SSO_LINK_TTL_MS));
          if (!browser) throw refusal;
          await recordAuthEvent(db, {
            orgId: settings.org_id,
            userId: null,
            actor: 'anonymous',
            kind: 'sign_in_failed',
            detail: { method: 'saml', code: refusal.code },
            ip: request.ip,
            at: now,
          });
          return reply.redirect(
            `${config.publicUrl}/v1/sso/saml/done#error=${refusal.code}&linkToken=${outcome.linkToken}${state}`,
            303,
          );
        }
        return reply.redirect(`${config.publicUrl}/v1/sso/saml/done#code=${outcome.code}${state}`, 303);
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
        const step = await samlSignIn(tx, user, now, request.ip, request.headers['user-agent']);
        return { step, email: user.email };
      });
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

  app.post(
    LINK_URL,
    {
      config: publicRoute(
        'linking an account to the IdP subject that named it: the link token plus the account’s own password (and authenticator code) are the credential',
      ),
      schema: {
        body: Type.Object(
          {
            linkToken: LinkToken,
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            code: Type.Optional(Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { linkToken, password, code } = request.body;
      const now = clock();
      const pending = await pendingSsoLinkRequest(db, linkToken, now);
      if (pending === null) throw invalidLinkToken();
      const limits = ssoLinkLimits(pending.userId, request.ip);
      if (code !== undefined) await totpSecrets.ready();
      // Counted before the password is checked, in one step with the check (finding 8); the
      // refusals that check nothing (no password here, code missing, link gone) take it back.
      const linked = await checkUnderLimits(db, limits, [limits[0]], now, () =>
        db.transaction(async (tx) => {
          const [user] = await tx.query<UserRow>(
            `SELECT * FROM users WHERE id = $1 AND org_id = $2 AND status = 'active' FOR UPDATE`,
            [pending.userId, pending.orgId],
          );
          const settings = await getSamlSettings(tx, pending.orgId);
          // The IdP was replaced since the assertion: its subject means nothing to the new one.
          if (user === undefined || settings?.idp_entity_id !== pending.idpEntityId) throw invalidLinkToken();
          // Linking must take at least what signing in takes: password, plus the second factor.
          const passkeyOnly = user.totp_enabled_at === null && (await hasPasskey(tx, user.id));
          if (user.password_hash === null || passkeyOnly)
            throw new ApiError(
              409,
              'SSO_LINK_NEEDS_OWNER',
              'This account cannot be linked with a password here (it has none, or signs in with a passkey): ask an owner to link it.',
            );
          if (user.totp_enabled_at !== null && code === undefined)
            throw new ApiError(
              400,
              'CODE_REQUIRED',
              'Send "code" from your authenticator app with your password.',
            );
          if (!(await verifyPassword(password, user.password_hash))) return null;
          if (
            user.totp_enabled_at !== null &&
            !(await redeemTotpCode(tx, totpSecrets, user, code ?? '', now, request.log))
          )
            return null;
          if (!(await consumeSsoLinkRequest(tx, linkToken, now))) throw invalidLinkToken();
          return linkSsoIdentity(tx, user, pending.idpEntityId, pending.nameId, now, {
            actor: `user:${user.id}`,
            via: 'credential',
            ip: request.ip,
          });
        }),
      );
      if (linked === null) {
        await recordAuthEvent(db, {
          orgId: pending.orgId,
          userId: pending.userId,
          actor: 'anonymous',
          kind: 'sign_in_failed',
          detail: { method: 'sso_link' },
          ip: request.ip,
          at: now,
        });
        throw new ApiError(401, 'INVALID_CREDENTIALS', 'The password or authenticator code is not right.');
      }
      // Linked, not signed in: the next SSO sign-in opens the session (and asks the second factor).
      return { linked: true, email: linked.email };
    },
  );

  app.post(
    '/v1/users/:id/sso-link',
    {
      config: requires('sso.manage'),
      schema: {
        params: UserParams,
        body: Type.Object(
          { nameId: Type.String({ minLength: 1, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const p = principalOf(request);
      const now = clock();
      await requireRecentAuth(db, p, now);
      const settings = await settingsOf(p.orgId);
      const nameId = request.body.nameId.trim();
      if (nameId === '') throw new ApiError(422, 'INVALID_NAME_ID', 'The NameID is empty.');
      const user = await db.transaction(async (tx) => {
        const [target] = await tx.query<UserRow>(
          'SELECT * FROM users WHERE id = $1 AND org_id = $2 FOR UPDATE',
          [request.params.id, p.orgId],
        );
        if (target === undefined)
          throw new ApiError(404, 'USER_NOT_FOUND', 'No such user in your organisation.');
        if (target.status !== 'active')
          throw new ApiError(403, 'USER_DEACTIVATED', 'This account is deactivated.');
        // Linking lets the IdP sign in as the user: nobody links an account that may do more than they.
        await assertMayGrant(tx, p.orgId, target.role, p.permissions);
        return linkSsoIdentity(tx, target, settings.idp_entity_id, nameId, now, {
          actor: p.actor,
          via: 'owner',
          ip: request.ip,
        });
      });
      return {
        user: userDto(user),
        sso: {
          idpEntityId: user.sso_idp_entity_id,
          nameId: user.sso_name_id,
          linkedAt: user.sso_linked_at === null ? null : new Date(user.sso_linked_at).toISOString(),
        },
      };
    },
  );
};
