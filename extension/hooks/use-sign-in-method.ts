import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { SSO_LAST_ORG_KEY } from '../lib/auth/sso-login.ts';
import { isActive, parseSsoState, SSO_STATE_KEY } from '../lib/auth/sso-state.ts';
import { SSO_ORG_ID } from '../lib/messages/extension-messages.ts';

/** `focus`: the rep (or the relay's answer) switched to SSO just now, so its field takes the focus. */
export type SignInMethod = { kind: 'password' } | { kind: 'sso'; explanation: string | null; focus: boolean };

/** The sign-in method to offer for one relay, and the organisation last signed in to with SSO there. */
export interface SignInMethodChoice {
  method: SignInMethod;
  setMethod(method: SignInMethod): void;
  rememberedOrg: string | null;
  /** False until the stored hints were read, so the page does not flash the password form first. */
  ready: boolean;
}

/** The last organisation this relay was signed in to with SSO, when remembered. */
async function rememberedSsoOrg(relayUrl: string): Promise<string | null> {
  const stored = (await browser.storage.local.get(SSO_LAST_ORG_KEY))[SSO_LAST_ORG_KEY];
  if (typeof stored !== 'object' || stored === null) return null;
  const { relayUrl: url, orgId } = stored as Record<string, unknown>;
  return url === relayUrl && typeof orgId === 'string' && SSO_ORG_ID.test(orgId) ? orgId : null;
}

/**
 * Password unless this relay was last signed in to with SSO or an SSO sign-in is under way for it;
 * storage that cannot be read leaves the password form.
 */
export function useSignInMethod(relayUrl: string | null): SignInMethodChoice {
  const [method, setMethod] = useState<SignInMethod>({ kind: 'password' });
  const [rememberedOrg, setRememberedOrg] = useState<string | null>(null);
  const [ready, setReady] = useState(relayUrl === null);
  useEffect(() => {
    if (relayUrl === null) return undefined;
    let live = true;
    Promise.all([
      rememberedSsoOrg(relayUrl),
      browser.storage.session.get(SSO_STATE_KEY).then((s) => parseSsoState(s[SSO_STATE_KEY])),
    ])
      .then(([orgId, attempt]) => {
        if (!live) return;
        setRememberedOrg(orgId);
        if (orgId !== null || (isActive(attempt) && attempt.relayUrl === relayUrl))
          setMethod({ kind: 'sso', explanation: null, focus: false });
      })
      .catch((error: unknown) => console.warn('[crm-texting] could not read the SSO sign-in hints', error))
      .finally(() => live && setReady(true));
    return () => {
      live = false;
    };
  }, [relayUrl]);
  return { method, setMethod, rememberedOrg, ready };
}
