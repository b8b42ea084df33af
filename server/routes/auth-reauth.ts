import { Type } from 'typebox';
import { Reauthenticated } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { reauthenticate } from '../auth/reauthentication.ts';
import { TotpSecrets } from '../auth/totp-secrets.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

/**
 * Re-authentication: a signed-in person proves their password or an authenticator code again, so
 * that for the next few minutes they may make sensitive changes (requireRecentAuth).
 */
export const reauthRoutes: RouteModule = (app, { db, clock, config }) => {
  const totpSecrets = new TotpSecrets(db, config);

  app.post(
    '/v1/auth/reauth',
    {
      config: { ...requires('account.self'), duringEnrolment: true },
      schema: {
        summary: 'Prove your password or authenticator code again',
        description:
          'Sensitive changes (second factors, API keys, SSO) need a proof from the last five minutes.',
        tags: ['auth'],
        body: Type.Object(
          {
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
            code: Type.Optional(Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Reauthenticated, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.sessionId === null || p.userId === null)
        throw new ApiError(400, 'NOT_A_SESSION', 'API keys cannot re-authenticate; sign in as yourself.');
      const { password, code } = request.body;
      const proof =
        password !== undefined && code === undefined
          ? { password }
          : code !== undefined && password === undefined
            ? { code }
            : null;
      if (proof === null)
        throw new ApiError(
          400,
          'CREDENTIAL_REQUIRED',
          'Send either "password" or "code" (a code from your authenticator app).',
        );
      const who = {
        orgId: p.orgId,
        userId: p.userId,
        sessionId: p.sessionId,
        actor: p.actor,
        ip: request.ip,
        proof,
      };
      const until = await reauthenticate({ db, totpSecrets, log: request.log }, who, clock());
      return { reauthenticatedUntil: until.toISOString() };
    },
  );
};
