import { ApiProblem } from './api-problem.ts';

/**
 * The browser's side of a passkey ceremony, on the relay's own origin (its relying party). The
 * relay speaks the WebAuthn JSON forms; the browser converts them (PublicKeyCredential's JSON
 * helpers, in Chromium 129+ and Firefox 119+).
 */
export function passkeysAvailable(): boolean {
  return (
    typeof PublicKeyCredential !== 'undefined' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'
  );
}

function unavailable(): ApiProblem {
  return new ApiProblem(
    0,
    'PASSKEYS_UNSUPPORTED',
    'This browser cannot use passkeys here. Use a current Chrome, Edge, Firefox or Safari, or your authenticator app.',
  );
}

/** The person cancelled or the device refused: said plainly, with what to do instead. */
function ceremonyProblem(error: unknown): ApiProblem {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError')
    return new ApiProblem(
      0,
      'PASSKEY_CANCELLED',
      'The passkey was not used (cancelled, timed out, or no passkey for this account on this device). Try again, or use another factor.',
    );
  if (name === 'InvalidStateError')
    return new ApiProblem(0, 'PASSKEY_EXISTS', 'This device already holds a passkey for your account.');
  return new ApiProblem(
    0,
    'PASSKEY_FAILED',
    `The browser could not use a passkey${error instanceof Error ? `: ${error.message}` : ''}.`,
  );
}

/** Signs the relay's challenge with a passkey; answers the JSON the relay checks. */
export async function passkeyAssertion(options: unknown): Promise<unknown> {
  if (!passkeysAvailable()) throw unavailable();
  try {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(
      options as PublicKeyCredentialRequestOptionsJSON,
    );
    const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
    if (credential === null) throw new DOMException('no credential', 'NotAllowedError');
    return credential.toJSON();
  } catch (error) {
    throw ceremonyProblem(error);
  }
}

/** Creates a passkey for the relay's registration options; answers the JSON the relay stores. */
export async function passkeyCreation(options: unknown): Promise<unknown> {
  if (!passkeysAvailable()) throw unavailable();
  try {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(
      options as PublicKeyCredentialCreationOptionsJSON,
    );
    const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
    if (credential === null) throw new DOMException('no credential', 'NotAllowedError');
    return credential.toJSON();
  } catch (error) {
    throw ceremonyProblem(error);
  }
}
