import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { verifyPassword } from '../auth/passwords.ts';
import { markReauthenticated, RECENT_AUTH_MS } from '../auth/recent-auth.ts';
import { checkUnderLimits, reauthLimits } from '../auth/throttle.ts';
import { redeemTotpCode, TotpSecrets } from '../auth/totp-secrets.ts';
import type { UserRow } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';

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
        body: Type.Object(
          {
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
            code: Type.Optional(Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.sessionId === null || p.userId === null)
        throw new ApiError(400, 'NOT_A_SESSION', 'API keys cannot re-authenticate; sign in as yourself.');
      const { password, code } = request.body;
      if ((password === undefined) === (code === undefined))
        throw new ApiError(
          400,
          'CREDENTIAL_REQUIRED',
          'Send either "password" or "code" (a code from your authenticator app).',
        );
      const now = clock();
      const userId = p.userId;
      const sessionId = p.sessionId;
      const limits = reauthLimits(userId);
      if (code !== undefined) await totpSecrets.ready();
      // Counted before the credential is checked, in one step with the check (finding 8); the
      // refusals below that check nothing (NO_PASSWORD, NO_AUTHENTICATOR) take the count back.
      const proven = await checkUnderLimits(db, limits, limits, now, () =>
        db.transaction(async (tx) => {
          const [user] = await tx.query<UserRow>(
            `SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`,
            [userId],
          );
          if (user === undefined) return null;
          if (password !== undefined && user.password_hash === null)
            throw new ApiError(
              409,
              'NO_PASSWORD',
              'Your account has no password (it signs in through SSO or a passkey): sign in again instead.',
            );
          if (code !== undefined && user.totp_enabled_at === null)
            throw new ApiError(409, 'NO_AUTHENTICATOR', 'Your account has no authenticator app enrolled.');
          const ok =
            password !== undefined
              ? user.password_hash !== null && (await verifyPassword(password, user.password_hash))
              : await redeemTotpCode(tx, totpSecrets, user, code ?? '', now, request.log);
          if (!ok) return null;
          await markReauthenticated(tx, sessionId, now);
          await recordAuthEvent(tx, {
            orgId: p.orgId,
            userId,
            actor: p.actor,
            kind: 'reauthenticated',
            detail: { sessionId, with: password !== undefined ? 'password' : 'totp' },
            ip: request.ip,
            at: now,
          });
          return true;
        }),
      );
      // 403, not 401: the session itself is still good, only this proof failed.
      if (proven === null) {
        await recordAuthEvent(db, {
          orgId: p.orgId,
          userId,
          actor: p.actor,
          kind: 'reauth_failed',
          detail: { sessionId, method: password !== undefined ? 'password' : 'totp' },
          ip: request.ip,
          at: now,
        });
        throw new ApiError(403, 'REAUTH_FAILED', 'The password or code is not right.');
      }
      return { reauthenticatedUntil: new Date(now.getTime() + RECENT_AUTH_MS).toISOString() };
    },
  );
};
