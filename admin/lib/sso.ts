import { parseSsoTarget, type SsoTarget } from '../../extension/lib/auth/sso-login.ts';

/** This tab's pending SSO sign-in: the state the relay must hand back with the code (login CSRF). */
const STATE_KEY = 'crm-texting-admin-sso-state';
/** The organisation last signed in with through SSO (not a secret), so the next sign-in is one click. */
export const LAST_ORG_KEY = 'crm-texting-admin-sso-org';

function randomState(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** What the admin typed (the org's SSO sign-in link or its ID), read against this relay. */
export function ssoTarget(input: string): SsoTarget {
  return parseSsoTarget(input, location.origin);
}

/** Where to send the browser to sign in: the relay's login for the org, bound to a fresh state kept in this tab. */
export function startConsoleSso(orgId: string): string {
  const state = randomState();
  sessionStorage.setItem(STATE_KEY, state);
  localStorage.setItem(LAST_ORG_KEY, orgId);
  return `/v1/sso/saml/${orgId}/login?${new URLSearchParams({ state, return: 'console' })}`;
}

/** What the relay's redirect after the IdP carried (#/sso-return?...), once its state is checked. */
export type SsoReturn =
  | { kind: 'code'; code: string }
  | { kind: 'not_linked'; linkToken: string }
  | { kind: 'refused'; code: string; message: string };

/**
 * Reads the return from the IdP and forgets this tab's pending state: a code is accepted only with
 * the state this tab started the sign-in with, so another site cannot sign the console in as someone else.
 */
export function takeSsoReturn(hash: string): SsoReturn | null {
  if (!hash.startsWith('#/sso-return')) return null;
  const params = new URLSearchParams(hash.split('?')[1] ?? '');
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(STATE_KEY);
  if (expected === null || params.get('state') !== expected)
    return {
      kind: 'refused',
      code: 'SSO_STATE_MISMATCH',
      message:
        'This single sign-on answer was not started from this tab, so it was ignored. Start the sign-in again here.',
    };
  const code = params.get('code');
  if (code !== null) return { kind: 'code', code };
  const linkToken = params.get('linkToken');
  if (params.get('error') === 'SSO_ACCOUNT_NOT_LINKED' && linkToken !== null)
    return { kind: 'not_linked', linkToken };
  return {
    kind: 'refused',
    code: params.get('error') ?? 'SSO_NO_CODE',
    message: 'The identity provider’s answer held no sign-in. Start the sign-in again.',
  };
}
