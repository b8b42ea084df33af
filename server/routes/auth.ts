import { Type } from 'typebox';
import { NoContent, SecondFactorRequired, SessionTokens } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { type PasswordSignInDeps, secondStepWithCode, signInWithPassword } from '../auth/password-sign-in.ts';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { refreshSession, revokeSession } from '../auth/sessions.ts';
import { signInBody, signInContext, tokensBody } from '../auth/sign-in.ts';
import { TotpSecrets } from '../auth/totp-secrets.ts';
import { ApiError } from '../errors.ts';
import { principalOf, publicRoute, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { authPageRoutes } from './auth-pages.ts';
import { passwordLinkRoutes } from './auth-password.ts';
import { totpRoutes } from './auth-totp.ts';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 });
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const TotpCode = Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' });
const tags = ['auth'];

/** Identity: sign-in with password and second factor, refresh rotation, sign-out, mail links and their pages, TOTP. */
export const authRoutes: RouteModule = (app, deps) => {
  const totpSecrets = new TotpSecrets(deps.db, deps.config);
  signInRoutes(totpSecrets)(app, deps);
  sessionTokenRoutes(app, deps);
  passwordLinkRoutes(app, deps);
  totpRoutes(totpSecrets)(app, deps);
  authPageRoutes(totpSecrets)(app, deps);
};

/** Password sign-in and its second step by authenticator or recovery code. */
const signInRoutes =
  (totpSecrets: TotpSecrets): RouteModule =>
  (app, { db, clock }) => {
    const signInDeps = (log: PasswordSignInDeps['log']): PasswordSignInDeps => ({ db, totpSecrets, log });

    app.post(
      '/v1/auth/login',
      {
        config: publicRoute('signing in: the credentials are the request'),
        schema: {
          summary: 'Sign in with email and password',
          description:
            'Opens a session (201), or asks for the second factor the account has (200). While the sign-in is locked, the password with an authenticator "code" still signs in.',
          tags,
          body: Type.Object(
            {
              email: Email,
              password: Password,
              orgId: Type.Optional(Type.String({ format: 'uuid' })),
              /** Only read while this sign-in is locked: the authenticator code that lets the owner in anyway. */
              code: Type.Optional(TotpCode),
            },
            { additionalProperties: false },
          ),
          response: { 200: SecondFactorRequired, 201: SessionTokens, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { password, orgId, code } = request.body;
        const attempt = { email: request.body.email.toLowerCase(), password, orgId, code };
        const ctx = signInContext(request, clock());
        const answer = signInBody(await signInWithPassword(signInDeps(request.log), attempt, ctx));
        return reply.code(answer.status).send(answer.body);
      },
    );

    app.post(
      '/v1/auth/mfa',
      {
        config: publicRoute('second sign-in step: the MFA token from /v1/auth/login is the credential'),
        schema: {
          summary: 'Second sign-in step: authenticator or recovery code',
          description: 'Send the MFA token with either "code" (authenticator app) or "recoveryCode".',
          tags,
          body: Type.Object(
            {
              mfaToken: LinkToken,
              code: Type.Optional(TotpCode),
              recoveryCode: Type.Optional(Type.String({ minLength: 16, maxLength: 40 })),
            },
            { additionalProperties: false },
          ),
          response: { 201: SessionTokens, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { mfaToken, code, recoveryCode } = request.body;
        const factor =
          code !== undefined && recoveryCode === undefined
            ? { code }
            : recoveryCode !== undefined && code === undefined
              ? { recoveryCode }
              : null;
        if (factor === null)
          throw new ApiError(
            400,
            'CODE_REQUIRED',
            'Send either "code" (authenticator app) or "recoveryCode".',
          );
        const ctx = signInContext(request, clock());
        const tokens = await secondStepWithCode(signInDeps(request.log), mfaToken, factor, ctx);
        return reply.code(201).send(tokensBody(tokens));
      },
    );
  };

/** Refresh rotation and sign-out. */
const sessionTokenRoutes: RouteModule = (app, { db, clock }) => {
  app.post(
    '/v1/auth/refresh',
    {
      config: publicRoute('token refresh: the refresh token is the credential'),
      schema: {
        summary: 'Trade a refresh token for new tokens',
        description: 'Each refresh token works once; presenting one again revokes its whole session.',
        tags,
        body: Type.Object(
          { refreshToken: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: SessionTokens, ...errorResponses },
      },
    },
    async (request) => {
      const now = clock();
      // Revocation on reuse must survive the refusal, so the refusal is thrown after commit.
      const outcome = await db.transaction(async (tx) => {
        try {
          return { tokens: await refreshSession(tx, request.body.refreshToken, now) };
        } catch (error) {
          if (error instanceof ApiError) return { error };
          throw error;
        }
      });
      if ('error' in outcome) throw outcome.error;
      return tokensBody(outcome.tokens);
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { ...requires('account.self'), duringEnrolment: true },
      schema: { summary: 'Sign out this session', tags, response: { 204: NoContent, ...errorResponses } },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId === null)
        throw new ApiError(400, 'NOT_A_SESSION', 'API keys do not sign out; revoke the key instead.');
      const now = clock();
      await revokeSession(db, p.sessionId, 'signed_out', now);
      await recordAuthEvent(db, {
        orgId: p.orgId,
        userId: p.userId,
        actor: p.actor,
        kind: 'sign_out',
        at: now,
      });
      return reply.code(204).send();
    },
  );
};
