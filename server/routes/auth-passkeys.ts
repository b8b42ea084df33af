import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { recordAuthEvent } from '../auth/auth-events.ts';
import { parseAuthSettings } from '../auth/auth-settings.ts';
import {
  advanceCounter,
  clientChallenge,
  consumeChallenge,
  decoyCredentials,
  hasPasskey,
  newChallenge,
  type PasskeyRow,
  passkeyDecoyKey,
  passkeyDto,
  relyingParty,
  storeChallenge,
  userPasskeys,
} from '../auth/passkeys.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { ssoRequired } from '../auth/saml.ts';
import { createSession, type IssuedTokens } from '../auth/sessions.ts';
import { checkUnderLimits, lockedFor, lockedOut, mfaLimits, passkeyLimits } from '../auth/throttle.ts';
import { consumeLink, getUser, type UserRow } from '../auth/users.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { principalOf, publicRoute, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { newId, sha256 } from '../ids.ts';

const B64url = Type.String({ minLength: 1, maxLength: 16_384, pattern: '^[A-Za-z0-9_-]+$' });
const CredentialId = Type.String({ minLength: 1, maxLength: 1_400, pattern: '^[A-Za-z0-9_-]+$' });
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const Transports = Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 10 });
const Extras = {
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true })),
};

/** A credential as the browser's PublicKeyCredential.toJSON() gives it after create(). */
const RegistrationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64url,
      attestationObject: B64url,
      transports: Type.Optional(Transports),
    }),
    ...Extras,
  },
  { additionalProperties: false },
);

/** An assertion as the browser's PublicKeyCredential.toJSON() gives it after get(). */
const AuthenticationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64url,
      authenticatorData: B64url,
      signature: B64url,
      userHandle: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' })),
    }),
    ...Extras,
  },
  { additionalProperties: false },
);

const notASession = () =>
  new ApiError(400, 'NOT_A_SESSION', 'Manage passkeys while signed in as yourself, not with an API key.');
const refused = () =>
  new ApiError(
    401,
    'PASSKEY_REFUSED',
    'The passkey could not be verified; ask for new options and try again.',
  );

function tokensBody(t: IssuedTokens) {
  return {
    sessionId: t.sessionId,
    accessToken: t.accessToken,
    accessTokenExpiresAt: t.accessExpiresAt,
    refreshToken: t.refreshToken,
    ...(t.stage === 'enrol' ? { secondFactorEnrolmentRequired: true } : {}),
  };
}

const asCredential = (p: PasskeyRow) => ({
  id: p.credential_id,
  publicKey: new Uint8Array(p.public_key),
  counter: Number(p.counter),
  transports: p.transports,
});

/** Passkeys (WebAuthn): registration while signed in, second factor after the password, passwordless. */
export const passkeyRoutes: RouteModule = (app, { db, clock, config }) => {
  const rp = relyingParty(config);
  // Read once per process, lazily so that buildApp stays free of I/O.
  let decoyKey: Promise<Buffer> | undefined;

  async function startSession(tx: Queryable, user: UserRow, request: FastifyRequest, method: string) {
    const [org] = await tx.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
      user.org_id,
    ]);
    const policy = parseAuthSettings(org?.settings);
    const secondFactor = user.totp_enabled_at !== null || (await hasPasskey(tx, user.id));
    const stage = policy.requireSecondFactor && !secondFactor ? 'enrol' : 'full';
    const now = clock();
    const tokens = await createSession(tx, {
      orgId: user.org_id,
      userId: user.id,
      stage,
      now,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
    });
    await recordAuthEvent(tx, {
      orgId: user.org_id,
      userId: user.id,
      actor: `user:${user.id}`,
      kind: 'sign_in',
      detail: { sessionId: tokens.sessionId, stage, method },
      ip: request.ip,
      at: now,
    });
    return tokens;
  }

  /**
   * Verifies an assertion for a stored passkey and moves its counter forward; null (after
   * recording why) when it does not verify or the counter went backwards (a cloned authenticator).
   */
  async function verifyAssertion(
    tx: Queryable,
    request: FastifyRequest,
    passkey: PasskeyRow,
    response: AuthenticationResponseJSON,
    challenge: string,
    requireUserVerification: boolean,
  ): Promise<boolean> {
    const now = clock();
    let reason: string | null = null;
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpID,
        credential: asCredential(passkey),
        requireUserVerification,
      });
      if (!result.verified) reason = 'not_verified';
      else if (requireUserVerification && !result.authenticationInfo.userVerified)
        reason = 'no_user_verification';
      else if (!(await advanceCounter(tx, passkey.id, result.authenticationInfo.newCounter, now)))
        reason = 'counter_regression';
    } catch (error) {
      reason = /counter/i.test(String((error as Error).message)) ? 'counter_regression' : 'not_verified';
    }
    if (reason === null) return true;
    request.log.warn({ passkeyId: passkey.id, reason }, 'passkey assertion refused');
    await recordAuthEvent(tx, {
      orgId: passkey.org_id,
      userId: passkey.user_id,
      actor: 'anonymous',
      kind: 'sign_in_failed',
      detail: { factor: 'passkey', passkeyId: passkey.id, reason },
      ip: request.ip,
      at: now,
    });
    return false;
  }

  const enrolment = { ...requires('account.self'), duringEnrolment: true };

  app.post('/v1/auth/passkeys/options', { config: enrolment }, async (request) => {
    const p = principalOf(request);
    if (p.sessionId === null || p.userId === null) throw notASession();
    // A stolen access token alone must not be able to register a passkey of its own (finding 5).
    await requireRecentAuth(db, p, clock());
    const user = await getUser(db, p.userId);
    if (user === null) throw new ApiError(404, 'USER_NOT_FOUND', 'No such user.');
    const existing = await userPasskeys(db, user.id);
    const options = await generateRegistrationOptions({
      rpName: rp.rpName,
      rpID: rp.rpID,
      userName: user.email,
      userDisplayName: user.display_name ?? user.email,
      userID: new TextEncoder().encode(user.id),
      challenge: newChallenge(),
      attestationType: 'none',
      excludeCredentials: existing.map((k) => ({ id: k.credential_id, transports: k.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await storeChallenge(db, {
      challenge: options.challenge,
      purpose: 'register',
      userId: user.id,
      now: clock(),
    });
    return options;
  });

  app.post(
    '/v1/auth/passkeys',
    {
      config: enrolment,
      schema: { body: Type.Object({ response: RegistrationResponse }, { additionalProperties: false }) },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId === null || p.userId === null) throw notASession();
      const userId = p.userId;
      const response = request.body.response as RegistrationResponseJSON;
      const challenge = clientChallenge(response.response.clientDataJSON);
      const now = clock();
      // Checked again here: options fetched in time do not stretch the proof past its minutes.
      await requireRecentAuth(db, p, now);
      const created = await db.transaction(async (tx) => {
        if (
          challenge === null ||
          !(await consumeChallenge(tx, { challenge, purpose: 'register', userId, now }))
        )
          return null;
        let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
        try {
          verification = await verifyRegistrationResponse({
            response,
            expectedChallenge: challenge,
            expectedOrigin: rp.origin,
            expectedRPID: rp.rpID,
            requireUserVerification: false,
          });
        } catch (error) {
          request.log.warn({ err: error }, 'passkey registration refused');
          return null;
        }
        if (!verification.verified) return null;
        const info = verification.registrationInfo;
        const taken = await tx.query('SELECT 1 FROM passkeys WHERE credential_id = $1', [info.credential.id]);
        if (taken.length > 0)
          throw new ApiError(409, 'PASSKEY_EXISTS', 'This passkey is already registered.');
        const [row] = await tx.query<PasskeyRow>(
          `INSERT INTO passkeys (id, org_id, user_id, credential_id, public_key, counter, transports, device_type, backed_up, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
          [
            newId(),
            p.orgId,
            userId,
            info.credential.id,
            Buffer.from(info.credential.publicKey),
            info.credential.counter,
            response.response.transports ?? [],
            info.credentialDeviceType,
            info.credentialBackedUp,
            now,
          ],
        );
        // The session that had to enrol a second factor may now do everything its role allows.
        await tx.query(`UPDATE auth_sessions SET stage = 'full' WHERE id = $1`, [p.sessionId]);
        await recordAuthEvent(tx, {
          orgId: p.orgId,
          userId,
          actor: p.actor,
          kind: 'mfa_enrolled',
          detail: { factor: 'passkey', passkeyId: row?.id },
          ip: request.ip,
          at: now,
        });
        return row ?? null;
      });
      if (created === null)
        throw new ApiError(
          422,
          'PASSKEY_NOT_VERIFIED',
          'The passkey could not be verified (or its options expired); ask for new options and try again.',
        );
      return reply.code(201).send(passkeyDto(created));
    },
  );

  app.get('/v1/auth/passkeys', { config: enrolment }, async (request) => {
    const p = principalOf(request);
    if (p.sessionId === null || p.userId === null) throw notASession();
    return { passkeys: (await userPasskeys(db, p.userId)).map(passkeyDto) };
  });

  app.delete(
    '/v1/auth/passkeys/:id',
    {
      config: requires('account.self'),
      schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId === null || p.userId === null) throw notASession();
      const now = clock();
      const deleted = await db.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          'DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING id',
          [request.params.id, p.userId],
        );
        if (rows.length === 0)
          throw new ApiError(404, 'PASSKEY_NOT_FOUND', 'You have no passkey with this id.');
        // Where the org requires a second factor, the last one cannot be removed, only replaced.
        const [left] = await tx.query<{ settings: unknown; totp: boolean; passkeys: number }>(
          `SELECT o.settings, u.totp_enabled_at IS NOT NULL AS totp,
                  (SELECT count(*)::int FROM passkeys WHERE user_id = u.id) AS passkeys
             FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1`,
          [p.userId],
        );
        if (
          left !== undefined &&
          parseAuthSettings(left.settings).requireSecondFactor &&
          !left.totp &&
          left.passkeys === 0
        ) {
          throw new ApiError(
            409,
            'LAST_SECOND_FACTOR',
            'Your organisation requires a second factor: add another one before removing this passkey.',
          );
        }
        return rows;
      });
      if (deleted.length === 0)
        throw new ApiError(404, 'PASSKEY_NOT_FOUND', 'You have no passkey with this id.');
      await recordAuthEvent(db, {
        orgId: p.orgId,
        userId: p.userId,
        actor: p.actor,
        kind: 'passkey_removed',
        detail: { passkeyId: request.params.id },
        ip: request.ip,
        at: now,
      });
      return reply.code(204).send();
    },
  );

  // --- Second factor after the password -------------------------------------------------------

  async function pendingMfaUser(mfaToken: string, now: Date): Promise<string> {
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
    return pending.user_id;
  }

  app.post(
    '/v1/auth/mfa/passkey/options',
    {
      config: publicRoute('second sign-in step: the MFA token from /v1/auth/login is the credential'),
      schema: { body: Type.Object({ mfaToken: LinkToken }, { additionalProperties: false }) },
    },
    async (request) => {
      const now = clock();
      const userId = await pendingMfaUser(request.body.mfaToken, now);
      const keys = await userPasskeys(db, userId);
      if (keys.length === 0)
        throw new ApiError(409, 'NO_PASSKEY', 'This account has no passkey; use the authenticator app.');
      const options = await generateAuthenticationOptions({
        rpID: rp.rpID,
        challenge: newChallenge(),
        allowCredentials: keys.map((k) => ({ id: k.credential_id, transports: k.transports })),
        userVerification: 'preferred',
      });
      await storeChallenge(db, { challenge: options.challenge, purpose: 'second_factor', userId, now });
      return options;
    },
  );

  app.post(
    '/v1/auth/mfa/passkey',
    {
      config: publicRoute('second sign-in step: the MFA token from /v1/auth/login is the credential'),
      schema: {
        body: Type.Object(
          { mfaToken: LinkToken, response: AuthenticationResponse },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { mfaToken } = request.body;
      const response = request.body.response as AuthenticationResponseJSON;
      const now = clock();
      const userId = await pendingMfaUser(mfaToken, now);
      // The same budget as the authenticator code: either factor completes the same step.
      const limits = mfaLimits(userId, request.ip);
      const challenge = clientChallenge(response.response.clientDataJSON);
      const tokens = await checkUnderLimits(db, limits, [limits[0]], now, () =>
        db.transaction(async (tx) => {
          if (
            challenge === null ||
            !(await consumeChallenge(tx, { challenge, purpose: 'second_factor', userId, now }))
          )
            return null;
          const [user] = await tx.query<UserRow>(
            `SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`,
            [userId],
          );
          const [passkey] = await tx.query<PasskeyRow>(
            'SELECT * FROM passkeys WHERE credential_id = $1 AND user_id = $2 FOR UPDATE',
            [response.id, userId],
          );
          if (user === undefined || passkey === undefined) return null;
          if (!(await verifyAssertion(tx, request, passkey, response, challenge, false))) return null;
          if ((await consumeLink(tx, 'mfa', mfaToken, now)) === null) return null;
          return startSession(tx, user, request, 'password+passkey');
        }),
      );
      if (tokens === null) throw refused();
      return reply.code(201).send(tokensBody(tokens));
    },
  );

  // --- Passwordless ---------------------------------------------------------------------------

  app.post(
    '/v1/auth/passkey/options',
    {
      config: publicRoute('passwordless sign-in, first step: hands out a challenge to sign'),
      schema: {
        body: Type.Object(
          { email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const now = clock();
      // A locked address gets no challenge to sign; asking for one is not an attempt.
      const wait = await lockedFor(db, passkeyLimits(request.ip), now);
      if (wait > 0) throw lockedOut(wait);
      // With an email, the browser is told that account's passkeys; without, it offers discoverable ones.
      const email = request.body.email?.toLowerCase();
      let allowCredentials: { id: string; transports: string[] }[] = [];
      if (email !== undefined) {
        decoyKey ??= passkeyDecoyKey(db);
        const [key, keys] = await Promise.all([
          decoyKey,
          db.query<PasskeyRow>(
            `SELECT p.* FROM passkeys p JOIN users u ON u.id = p.user_id
              WHERE u.email = $1 AND u.status = 'active' ORDER BY p.created_at, p.id`,
            [email],
          ),
        ]);
        // No such account (or none with a passkey) answers like one that has a passkey: the
        // same shape, the same credential on every ask, and the same work done either way.
        const decoys = decoyCredentials(key, email);
        allowCredentials =
          keys.length === 0 ? decoys : keys.map((k) => ({ id: k.credential_id, transports: k.transports }));
      }
      const options = await generateAuthenticationOptions({
        rpID: rp.rpID,
        challenge: newChallenge(),
        allowCredentials,
        userVerification: 'required',
      });
      await storeChallenge(db, { challenge: options.challenge, purpose: 'passwordless', userId: null, now });
      return options;
    },
  );

  app.post(
    '/v1/auth/passkey',
    {
      config: publicRoute('passwordless sign-in: a user-verified passkey assertion is the credential'),
      schema: { body: Type.Object({ response: AuthenticationResponse }, { additionalProperties: false }) },
    },
    async (request, reply) => {
      const response = request.body.response as AuthenticationResponseJSON;
      const now = clock();
      // Counted before the assertion is verified, in one step with the check (finding 8).
      const limits = passkeyLimits(request.ip);
      const challenge = clientChallenge(response.response.clientDataJSON);
      const tokens = await checkUnderLimits(db, limits, [], now, () =>
        db.transaction(async (tx) => {
          if (
            challenge === null ||
            !(await consumeChallenge(tx, { challenge, purpose: 'passwordless', userId: null, now }))
          )
            return null;
          const [passkey] = await tx.query<PasskeyRow>(
            'SELECT * FROM passkeys WHERE credential_id = $1 FOR UPDATE',
            [response.id],
          );
          if (passkey === undefined) return null;
          const [user] = await tx.query<UserRow>(
            `SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`,
            [passkey.user_id],
          );
          if (user === undefined) return null;
          const handle = response.response.userHandle;
          if (handle !== undefined && handle !== '' && handle !== Buffer.from(user.id).toString('base64url'))
            return null;
          if (!(await verifyAssertion(tx, request, passkey, response, challenge, true))) return null;
          // An SSO-only org admits its people through its identity provider alone.
          if (await ssoRequired(tx, user.org_id)) {
            throw new ApiError(
              403,
              'SSO_REQUIRED',
              'Your organisation signs in through single sign-on only.',
            );
          }
          return startSession(tx, user, request, 'passkey');
        }),
      );
      if (tokens === null) throw refused();
      return reply.code(201).send(tokensBody(tokens));
    },
  );
};
