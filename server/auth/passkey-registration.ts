import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { recordAuthEvent } from './auth-events.ts';
import { parseAuthSettings } from './auth-settings.ts';
import {
  clientChallenge,
  consumeChallenge,
  deletePasskey,
  insertPasskey,
  type PasskeyRow,
  type RelyingParty,
  secondFactorsLeft,
  storeChallenge,
  userPasskeys,
} from './passkeys.ts';
import { completeEnrolment } from './sessions.ts';
import { getUser } from './users.ts';
import { type RegistrationResponseJSON, registrationOptions, verifyRegistration } from './webauthn.ts';

/** The signed-in person registering or removing their own passkeys. */
export interface PasskeyOwner {
  orgId: string;
  userId: string;
  sessionId: string;
  actor: string;
}

/** Options to register a new passkey, leaving out the ones the user has; the challenge is stored. */
export async function passkeyRegistrationOptions(db: Queryable, rp: RelyingParty, userId: string, now: Date) {
  const user = await getUser(db, userId);
  if (user === null) throw new ApiError(404, 'USER_NOT_FOUND', 'No such user.');
  const existing = await userPasskeys(db, user.id);
  const options = await registrationOptions(
    rp,
    user,
    existing.map((k) => ({ id: k.credential_id, transports: k.transports })),
  );
  await storeChallenge(db, { challenge: options.challenge, purpose: 'register', userId: user.id, now });
  return options;
}

/**
 * Registers a passkey from the browser's create() answer: its challenge must be this user's and
 * unused; the session that had to enrol a second factor gets its full role. Audited as mfa_enrolled.
 */
export async function registerPasskey(
  db: Database,
  deps: { rp: RelyingParty; log: { warn(details: object, message: string): void } },
  owner: PasskeyOwner & { ip: string },
  response: RegistrationResponseJSON,
  now: Date,
): Promise<PasskeyRow> {
  const { userId } = owner;
  const challenge = clientChallenge(response.response.clientDataJSON);
  const created = await db.transaction(async (tx) => {
    if (challenge === null || !(await consumeChallenge(tx, { challenge, purpose: 'register', userId, now })))
      return null;
    const credential = await verifyRegistration(deps.rp, response, challenge, deps.log);
    if (credential === null) return null;
    const transports = response.response.transports ?? [];
    const row = await insertPasskey(tx, { orgId: owner.orgId, userId, ...credential, transports }, now);
    if (row === null) throw new ApiError(409, 'PASSKEY_EXISTS', 'This passkey is already registered.');
    await completeEnrolment(tx, owner.sessionId);
    await recordAuthEvent(tx, {
      orgId: owner.orgId,
      userId,
      actor: owner.actor,
      kind: 'mfa_enrolled',
      detail: { factor: 'passkey', passkeyId: row.id },
      ip: owner.ip,
      at: now,
    });
    return row;
  });
  if (created === null)
    throw new ApiError(
      422,
      'PASSKEY_NOT_VERIFIED',
      'The passkey could not be verified (or its options expired); ask for new options and try again.',
    );
  return created;
}

const notFound = () => new ApiError(404, 'PASSKEY_NOT_FOUND', 'You have no passkey with this id.');

/**
 * Removes one of the user's passkeys. Where the org requires a second factor, the last one
 * cannot be removed, only replaced. Audited as passkey_removed.
 */
export async function removePasskey(
  db: Database,
  owner: PasskeyOwner & { ip: string },
  passkeyId: string,
  now: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    if (!(await deletePasskey(tx, passkeyId, owner.userId))) throw notFound();
    const left = await secondFactorsLeft(tx, owner.userId);
    if (
      left !== null &&
      parseAuthSettings(left.settings).requireSecondFactor &&
      !left.totp &&
      left.passkeys === 0
    )
      throw new ApiError(
        409,
        'LAST_SECOND_FACTOR',
        'Your organisation requires a second factor: add another one before removing this passkey.',
      );
  });
  await recordAuthEvent(db, {
    orgId: owner.orgId,
    userId: owner.userId,
    actor: owner.actor,
    kind: 'passkey_removed',
    detail: { passkeyId },
    ip: owner.ip,
    at: now,
  });
}
