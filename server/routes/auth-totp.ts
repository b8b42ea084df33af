import { Type } from 'typebox';
import { TotpEnabled, TotpEnrolment } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { beginTotpEnrolment, confirmTotpEnrolment } from '../auth/totp-enrolment.ts';
import type { TotpSecrets } from '../auth/totp-secrets.ts';
import { ApiError } from '../errors.ts';
import { type Principal, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

const enrolment = { ...requires('account.self'), duringEnrolment: true };
const tags = ['auth'];

/** The signed-in person themselves (a session, not an API key): who may enrol a factor. */
function ownSession(p: Principal) {
  if (p.sessionId === null || p.userId === null)
    throw new ApiError(
      400,
      'NOT_A_SESSION',
      'Enrol a second factor while signed in as yourself, not with an API key.',
    );
  return { ...p, sessionId: p.sessionId, userId: p.userId };
}

/** Enrolling an authenticator app (TOTP) as a second factor. */
export const totpRoutes =
  (totpSecrets: TotpSecrets): RouteModule =>
  (app, { db, clock }) => {
    app.post(
      '/v1/auth/totp/enrol',
      {
        config: enrolment,
        schema: {
          summary: 'Start enrolling an authenticator app',
          description: 'Needs a recent sign-in or POST /v1/auth/reauth.',
          tags,
          response: { 201: TotpEnrolment, ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = ownSession(principalOf(request));
        // A stolen access token alone must not be able to add a factor of its own (finding 5).
        await requireRecentAuth(db, p, clock());
        return reply.code(201).send(await beginTotpEnrolment(db, totpSecrets, p.userId));
      },
    );

    app.post(
      '/v1/auth/totp/confirm',
      {
        config: enrolment,
        schema: {
          summary: 'Confirm the authenticator app with a code',
          description: 'Turns the factor on and hands out recovery codes, once.',
          tags,
          body: Type.Object(
            { code: Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' }) },
            { additionalProperties: false },
          ),
          response: { 200: TotpEnabled, ...errorResponses },
        },
      },
      async (request) => {
        const p = ownSession(principalOf(request));
        const now = clock();
        await totpSecrets.ready();
        const codes = await db.transaction((tx) =>
          confirmTotpEnrolment(tx, totpSecrets, p, request.body.code, now),
        );
        return { enabled: true as const, recoveryCodes: codes };
      },
    );
  };
