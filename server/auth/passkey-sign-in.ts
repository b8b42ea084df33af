import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import {
  type AllowedCredential,
  advanceCounter,
  clientChallenge,
  consumeChallenge,
  decoyCredentials,
  lockPasskey,
  type PasskeyRow,
  passkeysForEmail,
  type RelyingParty,
  storeChallenge,
  userPasskeys,
} from './passkeys.ts';
import { ssoRequired } from './saml-settings.ts';
import type { IssuedTokens } from './sessions.ts';
import { pendingMfaUser, recordSignInFailed, type SignInContext, startSession } from './sign-in.ts';
import { checkUnderLimits, lockedFor, lockedOut, mfaLimits, passkeyLimits } from './throttle.ts';
import { consumeLink, lockActiveUser } from './users.ts';
import { type AuthenticationResponseJSON, authenticationOptions, checkAssertion } from './webauthn.ts';

/** What passkey sign-in needs: the database, the relying party, a log, the decoy key (read lazily). */
export interface PasskeySignInDeps {
  db: Database;
  rp: RelyingParty;
  log: { warn(details: object, message: string): void };
  decoyKey: () => Promise<Buffer>;
}

const refused = () =>
  new ApiError(
    401,
    'PASSKEY_REFUSED',
    'The passkey could not be verified; ask for new options and try again.',
  );

const allowed = (keys: PasskeyRow[]): AllowedCredential[] =>
  keys.map((k) => ({ id: k.credential_id, transports: k.transports }));

/**
 * Verifies an assertion for a stored passkey and moves its counter forward; false (after
 * recording why) when it does not verify or the counter went backwards (a cloned authenticator).
 */
async function verifyStoredAssertion(
  tx: Queryable,
  deps: PasskeySignInDeps,
  passkey: PasskeyRow,
  assertion: { response: AuthenticationResponseJSON; challenge: string; requireUserVerification: boolean },
  ctx: SignInContext,
): Promise<boolean> {
  const { response, challenge, requireUserVerification } = assertion;
  const check = await checkAssertion(deps.rp, passkey, response, challenge, requireUserVerification);
  let reason = check.ok ? null : check.reason;
  if (check.ok && !(await advanceCounter(tx, passkey.id, check.newCounter, ctx.now)))
    reason = 'counter_regression';
  if (reason === null) return true;
  deps.log.warn({ passkeyId: passkey.id, reason }, 'passkey assertion refused');
  const detail = { factor: 'passkey', passkeyId: passkey.id, reason };
  await recordSignInFailed(tx, {
    orgId: passkey.org_id,
    userId: passkey.user_id,
    detail,
    ip: ctx.ip,
    now: ctx.now,
  });
  return false;
}

/** Options for the second step by passkey, for the user a pending MFA token belongs to. */
export async function secondStepPasskeyOptions(deps: PasskeySignInDeps, mfaToken: string, now: Date) {
  const userId = await pendingMfaUser(deps.db, mfaToken, now);
  const keys = await userPasskeys(deps.db, userId);
  if (keys.length === 0)
    throw new ApiError(409, 'NO_PASSKEY', 'This account has no passkey; use the authenticator app.');
  const options = await authenticationOptions(deps.rp, allowed(keys), 'preferred');
  await storeChallenge(deps.db, { challenge: options.challenge, purpose: 'second_factor', userId, now });
  return options;
}

/** POST /v1/auth/mfa/passkey: the second step by passkey, on the same budget as the authenticator code. */
export async function secondStepWithPasskey(
  deps: PasskeySignInDeps,
  mfaToken: string,
  response: AuthenticationResponseJSON,
  ctx: SignInContext,
): Promise<IssuedTokens> {
  const { db } = deps;
  const { now } = ctx;
  const userId = await pendingMfaUser(db, mfaToken, now);
  const limits = mfaLimits(userId, ctx.ip);
  const challenge = clientChallenge(response.response.clientDataJSON);
  const tokens = await checkUnderLimits(db, limits, [limits[0]], now, () =>
    db.transaction(async (tx) => {
      if (
        challenge === null ||
        !(await consumeChallenge(tx, { challenge, purpose: 'second_factor', userId, now }))
      )
        return null;
      const user = await lockActiveUser(tx, userId);
      const passkey = await lockPasskey(tx, response.id, userId);
      if (user === null || passkey === null) return null;
      const assertion = { response, challenge, requireUserVerification: false };
      if (!(await verifyStoredAssertion(tx, deps, passkey, assertion, ctx))) return null;
      if ((await consumeLink(tx, 'mfa', mfaToken, now)) === null) return null;
      return startSession(tx, user, { ...ctx, method: 'password+passkey' });
    }),
  );
  if (tokens === null) throw refused();
  return tokens;
}

/**
 * Options for passwordless sign-in. With an email, the browser is told that account's passkeys;
 * without, it offers discoverable ones. A locked address gets no challenge; asking is not an attempt.
 */
export async function passwordlessOptions(
  deps: PasskeySignInDeps,
  ip: string,
  email: string | undefined,
  now: Date,
) {
  const wait = await lockedFor(deps.db, passkeyLimits(ip), now);
  if (wait > 0) throw lockedOut(wait);
  let allowCredentials: AllowedCredential[] = [];
  if (email !== undefined) {
    const [key, keys] = await Promise.all([deps.decoyKey(), passkeysForEmail(deps.db, email)]);
    // No such account (or none with a passkey) answers like one that has a passkey: the
    // same shape, the same credential on every ask, and the same work done either way.
    const decoys = decoyCredentials(key, email);
    allowCredentials = keys.length === 0 ? decoys : allowed(keys);
  }
  const options = await authenticationOptions(deps.rp, allowCredentials, 'required');
  await storeChallenge(deps.db, { challenge: options.challenge, purpose: 'passwordless', userId: null, now });
  return options;
}

/** POST /v1/auth/passkey: passwordless sign-in with a user-verified assertion. */
export async function signInWithPasskey(
  deps: PasskeySignInDeps,
  response: AuthenticationResponseJSON,
  ctx: SignInContext,
): Promise<IssuedTokens> {
  const { db } = deps;
  const { now } = ctx;
  // Counted before the assertion is verified, in one step with the check (finding 8).
  const limits = passkeyLimits(ctx.ip);
  const challenge = clientChallenge(response.response.clientDataJSON);
  const tokens = await checkUnderLimits(db, limits, [], now, () =>
    db.transaction(async (tx) => {
      if (
        challenge === null ||
        !(await consumeChallenge(tx, { challenge, purpose: 'passwordless', userId: null, now }))
      )
        return null;
      const passkey = await lockPasskey(tx, response.id);
      if (passkey === null) return null;
      const user = await lockActiveUser(tx, passkey.user_id);
      if (user === null) return null;
      const handle = response.response.userHandle;
      if (handle !== undefined && handle !== '' && handle !== Buffer.from(user.id).toString('base64url'))
        return null;
      const assertion = { response, challenge, requireUserVerification: true };
      if (!(await verifyStoredAssertion(tx, deps, passkey, assertion, ctx))) return null;
      // An SSO-only org admits its people through its identity provider alone.
      if (await ssoRequired(tx, user.org_id))
        throw new ApiError(403, 'SSO_REQUIRED', 'Your organisation signs in through single sign-on only.');
      return startSession(tx, user, { ...ctx, method: 'passkey' });
    }),
  );
  if (tokens === null) throw refused();
  return tokens;
}
