import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { parseAuthSettings } from '../auth/auth-settings.ts';
import { passwordChangedNotice, type RemovedFactor, revokeRecentFactors } from '../auth/factor-revocation.ts';
import { hasPasskey } from '../auth/passkeys.ts';
import { burnPasswordCheck, MAX_PASSWORD_LENGTH, verifyPassword } from '../auth/passwords.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { ssoRequired } from '../auth/saml.ts';
import { createSession, type IssuedTokens, refreshSession, revokeSession } from '../auth/sessions.ts';
import {
  attemptSucceeded,
  checkUnderLimits,
  claimAttempt,
  knownAddress,
  type Limit,
  lockedOut,
  mfaLimits,
  passwordLimits,
  resetLimits,
  secondFactorBypassLimit,
} from '../auth/throttle.ts';
import { matchTotp, newTotpSecret, otpauthUri } from '../auth/totp.ts';
import { redeemTotpCode, TotpSecrets } from '../auth/totp-secrets.ts';
import { consumeLink, getUser, issueLink, setPassword, type UserRow } from '../auth/users.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { principalOf, publicRoute, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { sha256 } from '../ids.ts';
import { deliver } from '../mail/select.ts';

const signIn = publicRoute('signing in: the credentials are the request');
const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 });
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const RECOVERY_CODES = 10;

const badCredentials = () => new ApiError(401, 'INVALID_CREDENTIALS', 'The email or password is not right.');

function tokensBody(t: IssuedTokens) {
  return {
    sessionId: t.sessionId,
    accessToken: t.accessToken,
    accessTokenExpiresAt: t.accessExpiresAt,
    refreshToken: t.refreshToken,
    ...(t.stage === 'enrol' ? { secondFactorEnrolmentRequired: true } : {}),
  };
}

function newRecoveryCode(): string {
  const raw = randomBytes(8).toString('hex');
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
}

const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[^0-9a-f]/g, '');

/** Identity: sign-in with password and second factor, refresh rotation, sign-out, mail links, TOTP. */
export const authRoutes: RouteModule = (app, { db, clock, config, mail, outgoingMail }) => {
  const totpSecrets = new TotpSecrets(db, config);

  async function startSession(tx: Queryable, user: UserRow, ip: string, userAgent: string | undefined) {
    const [org] = await tx.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
      user.org_id,
    ]);
    const policy = parseAuthSettings(org?.settings);
    // A passkey counts as a second factor, like an authenticator app.
    const secondFactor = user.totp_enabled_at !== null || (await hasPasskey(tx, user.id));
    const stage = policy.requireSecondFactor && !secondFactor ? 'enrol' : 'full';
    const now = clock();
    const tokens = await createSession(tx, {
      orgId: user.org_id,
      userId: user.id,
      stage,
      now,
      ip,
      userAgent: userAgent ?? null,
    });
    await recordAuthEvent(tx, {
      orgId: user.org_id,
      userId: user.id,
      actor: `user:${user.id}`,
      kind: 'sign_in',
      detail: { sessionId: tokens.sessionId, stage },
      ip,
      at: now,
    });
    return tokens;
  }

  /** The active account this email and password open (Argon2 cost paid even when none exists). */
  async function passwordUser(email: string, password: string, orgId: string | undefined) {
    const candidates = await db.query<UserRow>(
      `SELECT * FROM users WHERE email = $1 AND status = 'active' AND ($2::uuid IS NULL OR org_id = $2) ORDER BY created_at`,
      [email, orgId ?? null],
    );
    let user: UserRow | null = null;
    for (const candidate of candidates) {
      if (candidate.password_hash !== null && (await verifyPassword(password, candidate.password_hash))) {
        user = candidate;
        break;
      }
    }
    // Unknown emails cost one Argon2 check too, so timing does not tell which accounts exist.
    if (candidates.every((c) => c.password_hash === null)) await burnPasswordCheck(password);
    return { user, first: candidates[0] };
  }

  const bypassHint = {
    secondFactor:
      'Send the password again together with "code" from your authenticator app to sign in now, or sign in with a passkey.',
  };

  app.post(
    '/v1/auth/login',
    {
      config: signIn,
      schema: {
        body: Type.Object(
          {
            email: Email,
            password: Password,
            orgId: Type.Optional(Type.String({ format: 'uuid' })),
            /** Only read while this sign-in is locked: the authenticator code that lets the owner in anyway. */
            code: Type.Optional(Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const email = request.body.email.toLowerCase();
      const ip = request.ip;
      const now = clock();
      const limits = passwordLimits(email, ip, await knownAddress(db, email, ip, now));
      const [pair, ...ceilings] = limits as [Limit, ...Limit[]];
      // Counted before the password is checked, in one step with the check (finding 8).
      const claim = await claimAttempt(db, limits, now);
      if (!claim.ok) {
        const code = request.body.code;
        if (code === undefined) throw lockedOut(claim.retryAfterSeconds, bypassHint);
        return signInDespiteLock(request, reply, {
          email,
          password: request.body.password,
          orgId: request.body.orgId,
          code,
          pair,
          wait: claim.retryAfterSeconds,
          now,
        });
      }
      const { user, first } = await passwordUser(email, request.body.password, request.body.orgId);
      if (user === null) {
        await recordAuthEvent(db, {
          orgId: first?.org_id ?? null,
          userId: first?.id ?? null,
          actor: 'anonymous',
          kind: 'sign_in_failed',
          detail: { email },
          ip,
          at: now,
        });
        throw badCredentials();
      }
      await attemptSucceeded(db, { reset: [pair], refund: ceilings });
      if (await ssoRequired(db, user.org_id))
        throw new ApiError(
          403,
          'SSO_REQUIRED',
          'Your organisation signs in through its identity provider (SAML).',
        );
      const passkey = await hasPasskey(db, user.id);
      if (user.totp_enabled_at !== null || passkey) {
        const mfaToken = await issueLink(db, 'mfa', user.id, now);
        const factors = [...(user.totp_enabled_at !== null ? ['totp'] : []), ...(passkey ? ['passkey'] : [])];
        return { mfaRequired: true, mfaToken, factors };
      }
      const found = user;
      const tokens = await db.transaction((tx) =>
        startSession(tx, found, request.ip, request.headers['user-agent']),
      );
      return reply.code(201).send(tokensBody(tokens));
    },
  );

  /**
   * A locked sign-in never keeps out someone who proves a second factor: the right password and
   * a fresh authenticator code together sign in at once. Anything less gets the same 429 as the
   * lock itself, so a guesser learns nothing about the password.
   */
  async function signInDespiteLock(
    request: FastifyRequest,
    reply: FastifyReply,
    input: {
      email: string;
      password: string;
      orgId: string | undefined;
      code: string;
      pair: Limit;
      wait: number;
      now: Date;
    },
  ) {
    const { email, code, pair, wait, now } = input;
    const bypass = secondFactorBypassLimit(email, request.ip);
    const claim = await claimAttempt(db, [bypass], now);
    if (!claim.ok) throw lockedOut(Math.max(wait, claim.retryAfterSeconds), bypassHint);
    const { user, first } = await passwordUser(email, input.password, input.orgId);
    let tokens: IssuedTokens | null = null;
    if (user !== null && user.totp_enabled_at !== null && !(await ssoRequired(db, user.org_id))) {
      await totpSecrets.ready();
      tokens = await db.transaction(async (tx) => {
        const [locked] = await tx.query<UserRow>(
          `SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`,
          [user.id],
        );
        if (locked === undefined || !(await redeemTotpCode(tx, totpSecrets, locked, code, now, request.log)))
          return null;
        return startSession(tx, locked, request.ip, request.headers['user-agent']);
      });
    }
    if (tokens === null) {
      await recordAuthEvent(db, {
        orgId: first?.org_id ?? null,
        userId: first?.id ?? null,
        actor: 'anonymous',
        kind: 'sign_in_failed',
        detail: { email, whileLocked: true },
        ip: request.ip,
        at: now,
      });
      throw lockedOut(wait, bypassHint);
    }
    // The owner proved two factors: the lock on their own address is lifted.
    await attemptSucceeded(db, { reset: [pair, bypass], refund: [] });
    return reply.code(201).send(tokensBody(tokens));
  }

  app.post(
    '/v1/auth/mfa',
    {
      config: publicRoute('second sign-in step: the MFA token from /v1/auth/login is the credential'),
      schema: {
        body: Type.Object(
          {
            mfaToken: LinkToken,
            code: Type.Optional(Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })),
            recoveryCode: Type.Optional(Type.String({ minLength: 16, maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { mfaToken, code, recoveryCode } = request.body;
      if ((code === undefined) === (recoveryCode === undefined))
        throw new ApiError(400, 'CODE_REQUIRED', 'Send either "code" (authenticator app) or "recoveryCode".');
      const now = clock();
      const [pending] = await db.query<{ user_id: string }>(
        `SELECT user_id FROM auth_tokens WHERE token_hash = $1 AND kind = 'mfa' AND used_at IS NULL AND expires_at > $2`,
        [sha256(mfaToken), now],
      );
      if (pending === undefined)
        throw new ApiError(
          401,
          'INVALID_MFA_TOKEN',
          'The sign-in step expired or was already used; sign in again.',
        );
      const limits = mfaLimits(pending.user_id, request.ip);
      if (code !== undefined) await totpSecrets.ready();
      // Counted before the code is checked, in one step with the check (finding 8).
      const tokens = await checkUnderLimits(db, limits, [limits[0]], now, () =>
        db.transaction(async (tx) => {
          const [user] = await tx.query<UserRow>(
            `SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`,
            [pending.user_id],
          );
          if (user === undefined || user.totp_secret === null) return null;
          if (code !== undefined) {
            if (!(await redeemTotpCode(tx, totpSecrets, user, code, now, request.log))) return null;
          } else {
            const used = await tx.query(
              `UPDATE recovery_codes SET used_at = $3
                WHERE id = (SELECT id FROM recovery_codes WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL LIMIT 1)
                RETURNING id`,
              [user.id, sha256(normalizeRecovery(recoveryCode ?? '')), now],
            );
            if (used.length === 0) return null;
            await recordAuthEvent(tx, {
              orgId: user.org_id,
              userId: user.id,
              actor: `user:${user.id}`,
              kind: 'recovery_code_used',
              ip: request.ip,
              at: now,
            });
          }
          if ((await consumeLink(tx, 'mfa', mfaToken, now)) === null) return null;
          return startSession(tx, user, request.ip, request.headers['user-agent']);
        }),
      );
      if (tokens === null) {
        // The evidence of guessing at someone's second factor (their password is known).
        const [user] = await db.query<{ org_id: string }>('SELECT org_id FROM users WHERE id = $1', [
          pending.user_id,
        ]);
        await recordAuthEvent(db, {
          orgId: user?.org_id ?? null,
          userId: pending.user_id,
          actor: 'anonymous',
          kind: 'sign_in_failed',
          detail: { method: code !== undefined ? 'totp' : 'recovery_code' },
          ip: request.ip,
          at: now,
        });
        throw new ApiError(401, 'INVALID_CODE', 'The code is not right (or was already used).');
      }
      return reply.code(201).send(tokensBody(tokens));
    },
  );

  app.post(
    '/v1/auth/refresh',
    {
      config: publicRoute('token refresh: the refresh token is the credential'),
      schema: {
        body: Type.Object(
          { refreshToken: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
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
    { config: { ...requires('account.self'), duringEnrolment: true } },
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

  app.post(
    '/v1/auth/password-reset',
    {
      config: publicRoute('asking for a reset link; answers the same whether the account exists'),
      schema: { body: Type.Object({ email: Email }, { additionalProperties: false }) },
    },
    async (request, reply) => {
      const email = request.body.email.toLowerCase();
      const now = clock();
      // Every request counts, counted before anything is looked up: each one sends mail.
      const claim = await claimAttempt(db, resetLimits(email, request.ip), now);
      if (!claim.ok) throw lockedOut(claim.retryAfterSeconds);
      const users = await db.query<UserRow>(`SELECT * FROM users WHERE email = $1 AND status = 'active'`, [
        email,
      ]);
      for (const user of users) {
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
        body: Type.Object({ token: LinkToken, password: Password }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const now = clock();
      const { user, removed } = await db.transaction(async (tx) => {
        const userId = await consumeLink(tx, 'reset_password', request.body.token, now);
        const user = userId === null ? null : await getUser(tx, userId);
        if (user === null || user.status !== 'active')
          throw new ApiError(
            400,
            'INVALID_LINK',
            'This link is unknown, already used or expired; ask for a new one.',
          );
        // setPassword signs every session out; factors added lately go too (issue #13, finding 5).
        await setPassword(tx, user, request.body.password, now);
        const removed: RemovedFactor[] = await revokeRecentFactors(tx, user, now, request.ip);
        return { user, removed };
      });
      await deliver(mail, passwordChangedNotice(user.email, removed, now), request.log, {
        userId: user.id,
        kind: 'password_changed_notice',
      });
      return { status: 'password_set', removedFactors: removed };
    },
  );

  app.post(
    '/v1/auth/verify-email',
    {
      config: publicRoute('email verification: the single-use link token is the credential'),
      schema: { body: Type.Object({ token: LinkToken }, { additionalProperties: false }) },
    },
    async (request) => {
      const now = clock();
      const userId = await consumeLink(db, 'verify_email', request.body.token, now);
      if (userId === null)
        throw new ApiError(400, 'INVALID_LINK', 'This link is unknown, already used or expired.');
      const [user] = await db.query<UserRow>(
        'UPDATE users SET email_verified_at = coalesce(email_verified_at, $2) WHERE id = $1 RETURNING *',
        [userId, now],
      );
      await recordAuthEvent(db, {
        orgId: user?.org_id ?? null,
        userId,
        actor: `user:${userId}`,
        kind: 'email_verified',
        at: now,
      });
      return { status: 'verified' };
    },
  );

  const enrolment = { ...requires('account.self'), duringEnrolment: true };

  app.post('/v1/auth/totp/enrol', { config: enrolment }, async (request, reply) => {
    const p = principalOf(request);
    if (p.sessionId === null || p.userId === null)
      throw new ApiError(
        400,
        'NOT_A_SESSION',
        'Enrol a second factor while signed in as yourself, not with an API key.',
      );
    // A stolen access token alone must not be able to add a factor of its own (finding 5).
    await requireRecentAuth(db, p, clock());
    const user = await getUser(db, p.userId);
    if (user === null) throw new ApiError(404, 'USER_NOT_FOUND', 'No such user.');
    if (user.totp_enabled_at !== null)
      throw new ApiError(409, 'ALREADY_ENROLLED', 'An authenticator app is already enrolled.');
    const secret = newTotpSecret();
    await db.query('UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1', [
      user.id,
      await totpSecrets.seal(user.id, secret),
    ]);
    return reply.code(201).send({ secret, otpauthUri: otpauthUri(secret, user.email) });
  });

  app.post(
    '/v1/auth/totp/confirm',
    {
      config: enrolment,
      schema: {
        body: Type.Object(
          { code: Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.sessionId === null || p.userId === null)
        throw new ApiError(
          400,
          'NOT_A_SESSION',
          'Enrol a second factor while signed in as yourself, not with an API key.',
        );
      const now = clock();
      const userId = p.userId;
      await totpSecrets.ready();
      const codes = await db.transaction(async (tx) => {
        const [user] = await tx.query<UserRow>('SELECT * FROM users WHERE id = $1 FOR UPDATE', [userId]);
        if (user === undefined || user.totp_secret === null)
          throw new ApiError(409, 'NOT_ENROLLING', 'Start with POST /v1/auth/totp/enrol.');
        if (user.totp_enabled_at !== null)
          throw new ApiError(409, 'ALREADY_ENROLLED', 'An authenticator app is already enrolled.');
        const stored = await totpSecrets.open(userId, user.totp_secret);
        if (stored === null)
          throw new ApiError(409, 'NOT_ENROLLING', 'Start again with POST /v1/auth/totp/enrol.');
        const step = matchTotp(stored.secret, request.body.code, now, null);
        if (step === null)
          throw new ApiError(
            422,
            'INVALID_CODE',
            'The code does not match; check the app and try the next one.',
          );
        await tx.query(
          'UPDATE users SET totp_enabled_at = $2, totp_last_step = $3, totp_secret = $4 WHERE id = $1',
          [
            userId,
            now,
            step,
            stored.plaintext ? await totpSecrets.seal(userId, stored.secret) : user.totp_secret,
          ],
        );
        await tx.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
        const fresh = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
        for (const c of fresh)
          await tx.query('INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)', [
            userId,
            sha256(normalizeRecovery(c)),
          ]);
        // The session that had to enrol may now do everything its role allows.
        await tx.query(`UPDATE auth_sessions SET stage = 'full' WHERE id = $1`, [p.sessionId]);
        await recordAuthEvent(tx, {
          orgId: p.orgId,
          userId,
          actor: p.actor,
          kind: 'mfa_enrolled',
          detail: { factor: 'totp' },
          at: now,
        });
        return fresh;
      });
      return { enabled: true, recoveryCodes: codes };
    },
  );
};
