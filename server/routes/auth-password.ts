import { Type } from 'typebox';
import { PasswordSet, StatusAnswer } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { passwordChangedNotice } from '../auth/factor-revocation.ts';
import { resetPassword, verifyEmail } from '../auth/password-reset.ts';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { claimAttempt, lockedOut, resetLimits } from '../auth/throttle.ts';
import { activeUsersByEmail, issueLink } from '../auth/users.ts';
import { publicRoute } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { deliver } from '../mail/select.ts';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 });
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const tags = ['auth'];

/** Mail links: asking for a password reset, completing it, proving an address. */
export const passwordLinkRoutes: RouteModule = (app, deps) => {
  passwordResetRoutes(app, deps);
  verifyEmailRoutes(app, deps);
};

/** Asking for a reset link and completing the reset. */
const passwordResetRoutes: RouteModule = (app, { db, clock, config, mail, outgoingMail }) => {
  app.post(
    '/v1/auth/password-reset',
    {
      config: publicRoute('asking for a reset link; answers the same whether the account exists'),
      schema: {
        summary: 'Ask for a password reset link',
        description:
          'Mails a single-use link to every active account with this address; answers the same either way.',
        tags,
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: {
          202: StatusAnswer('sent_if_the_account_exists', 'Mailed if the account exists'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const email = request.body.email.toLowerCase();
      const now = clock();
      // Every request counts, counted before anything is looked up: each one sends mail.
      const claim = await claimAttempt(db, resetLimits(email, request.ip), now);
      if (!claim.ok) throw lockedOut(claim.retryAfterSeconds);
      for (const user of await activeUsersByEmail(db, email)) {
        const token = await issueLink(db, 'reset_password', user.id, now);
        // Sent after the answer: neither a slow mail server nor one that refuses may change the
        // answer's timing or content, which would tell which accounts exist.
        outgoingMail.send(
          {
            to: user.email,
            subject: 'Reset your CRM Texting password',
            text: `Choose a new password: ${config.publicUrl}/auth/reset?token=${token}\nThe link works once and expires in an hour. If you did not ask for it, ignore this mail.`,
          },
          request.log,
          { userId: user.id, kind: 'password_reset' },
        );
        await recordAuthEvent(db, {
          orgId: user.org_id,
          userId: user.id,
          actor: 'anonymous',
          kind: 'password_reset_requested',
          ip: request.ip,
          at: now,
        });
      }
      return reply.code(202).send({ status: 'sent_if_the_account_exists' });
    },
  );

  app.post(
    '/v1/auth/password-reset/confirm',
    {
      config: publicRoute('completing a reset: the single-use link token is the credential'),
      schema: {
        summary: 'Set a new password with a reset link',
        description: 'Signs every session out and removes second factors added in the last 24 hours.',
        tags,
        body: Type.Object({ token: LinkToken, password: Password }, { additionalProperties: false }),
        response: { 200: PasswordSet, ...errorResponses },
      },
    },
    async (request) => {
      const now = clock();
      const { token, password } = request.body;
      const { user, removed } = await db.transaction((tx) =>
        resetPassword(tx, { token, password, ip: request.ip }, now),
      );
      await deliver(mail, passwordChangedNotice(user.email, removed, now), request.log, {
        userId: user.id,
        kind: 'password_changed_notice',
      });
      return { status: 'password_set' as const, removedFactors: removed };
    },
  );
};

/** Proving an address with the link mailed to it. */
const verifyEmailRoutes: RouteModule = (app, { db, clock }) => {
  app.post(
    '/v1/auth/verify-email',
    {
      config: publicRoute('email verification: the single-use link token is the credential'),
      schema: {
        summary: 'Prove an email address with its link',
        tags,
        body: Type.Object({ token: LinkToken }, { additionalProperties: false }),
        response: { 200: StatusAnswer('verified', 'The address is proven'), ...errorResponses },
      },
    },
    async (request) => {
      await verifyEmail(db, request.body.token, clock());
      return { status: 'verified' as const };
    },
  );
};
