import { useEffect, useMemo, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { AuthApi } from '../lib/auth/auth-api.ts';
import { SignInFlow, type SignInState } from '../lib/auth/sign-in-flow.ts';
import { SSO_LAST_ORG_KEY } from '../lib/auth/sso-login.ts';
import type { SsoSecondFactorStep } from '../lib/auth/sso-state.ts';
import { browserSessionStore } from '../lib/settings.ts';
import { SecondFactorForm } from './SecondFactorForm.tsx';

/**
 * An SSO sign-in whose identity provider step passed, for an account with a second factor: the same
 * code step as after a password, finished at `POST /v1/auth/mfa`. The stored session then switches the
 * options page to "Signed in" by itself.
 */
export function SsoSecondFactor({
  step,
  onStartOver,
}: {
  step: SsoSecondFactorStep;
  /** Back to the SSO form; `error` says why when the step could not be finished. */
  onStartOver: (error: string | null) => void;
}) {
  const { relayUrl, orgId, mfaToken } = step;
  const email = step.email ?? 'your account';
  const [state, setState] = useState<SignInState | null>(null);
  const flow = useMemo(
    () => new SignInFlow(new AuthApi(relayUrl), browserSessionStore, relayUrl, setState),
    [relayUrl],
  );
  useEffect(() => flow.continueAfterSso(email, mfaToken), [flow, email, mfaToken]);
  useEffect(() => {
    if (state?.step === 'credentials') onStartOver(state.error);
    // Offered next time, as after an SSO sign-in without a second factor.
    if (state?.step === 'signed-in')
      browser.storage.local
        .set({ [SSO_LAST_ORG_KEY]: { relayUrl, orgId } })
        .catch((error: unknown) =>
          console.warn('[crm-texting] could not remember the SSO organisation', error),
        );
  }, [state, onStartOver, relayUrl, orgId]);

  if (state?.step !== 'second-factor') return null;
  return (
    <SecondFactorForm
      state={state}
      hint={
        step.factors.includes('totp')
          ? undefined
          : 'Your account signs in with a passkey, which the extension cannot use: enter one of your recovery codes.'
      }
      onSubmit={(code) => void flow.submitCode(code)}
      onStartOver={() => onStartOver(null)}
    />
  );
}
