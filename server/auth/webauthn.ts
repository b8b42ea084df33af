import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { type AllowedCredential, newChallenge, type PasskeyRow, type RelyingParty } from './passkeys.ts';
import type { UserRow } from './users.ts';

/** The one file that imports the WebAuthn library: options to hand out, responses to verify. */

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

type AllowedTransports = Parameters<typeof verifyAuthenticationResponse>[0]['credential']['transports'];

/** Options for navigator.credentials.create(), leaving out the passkeys the user already has. */
export function registrationOptions(
  rp: RelyingParty,
  user: UserRow,
  existing: AllowedCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: user.email,
    userDisplayName: user.display_name ?? user.email,
    userID: new TextEncoder().encode(user.id),
    challenge: newChallenge(),
    attestationType: 'none',
    excludeCredentials: existing,
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

/** Options for navigator.credentials.get(): a fresh challenge for these credentials. */
export function authenticationOptions(
  rp: RelyingParty,
  allowCredentials: AllowedCredential[],
  userVerification: 'preferred' | 'required',
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpID,
    challenge: newChallenge(),
    allowCredentials,
    userVerification,
  });
}

/** A verified new credential, ready to store. */
export interface NewCredential {
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  deviceType: string;
  backedUp: boolean;
}

/** Verifies a registration against its challenge; null (logged) when it does not verify. */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  challenge: string,
  log: { warn(details: object, message: string): void },
): Promise<NewCredential | null> {
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
    log.warn({ err: error }, 'passkey registration refused');
    return null;
  }
  if (!verification.verified) return null;
  const info = verification.registrationInfo;
  return {
    credentialId: info.credential.id,
    publicKey: info.credential.publicKey,
    counter: info.credential.counter,
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
  };
}

/** Why an assertion was refused, or its new signature counter. */
export type AssertionCheck = { ok: true; newCounter: number } | { ok: false; reason: string };

/** Verifies an assertion's signature for a stored passkey (and user verification when required). */
export async function checkAssertion(
  rp: RelyingParty,
  passkey: PasskeyRow,
  response: AuthenticationResponseJSON,
  challenge: string,
  requireUserVerification: boolean,
): Promise<AssertionCheck> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: {
        id: passkey.credential_id,
        publicKey: new Uint8Array(passkey.public_key),
        counter: Number(passkey.counter),
        transports: passkey.transports as AllowedTransports,
      },
      requireUserVerification,
    });
    if (!result.verified) return { ok: false, reason: 'not_verified' };
    if (requireUserVerification && !result.authenticationInfo.userVerified)
      return { ok: false, reason: 'no_user_verification' };
    return { ok: true, newCounter: result.authenticationInfo.newCounter };
  } catch (error) {
    return {
      ok: false,
      reason: /counter/i.test(String((error as Error).message)) ? 'counter_regression' : 'not_verified',
    };
  }
}
