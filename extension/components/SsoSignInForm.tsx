import { useState } from 'preact/hooks';
import { type SsoAttempt, useSsoAttempt } from '../hooks/use-sso-attempt.ts';
import { useSsoTarget } from '../hooks/use-sso-target.ts';
import { isActive } from '../lib/auth/sso-state.ts';
import { SignedOutNotice } from './SignedOutNotice.tsx';
import { SsoLinkForm } from './SsoLinkForm.tsx';
import { SsoSecondFactor } from './SsoSecondFactor.tsx';
import { SsoStatus } from './SsoStatus.tsx';
import { SsoTargetInput } from './SsoTargetInput.tsx';

/**
 * "Sign in with SSO": the rep gives the organisation's sign-in link (or ID); the background opens it
 * in a tab and finishes the sign-in when the relay's done page appears there. Progress and outcome
 * come from the attempt the background keeps in session storage.
 */
export function SsoSignInForm({
  relayUrl,
  explanation,
  focus,
  signedOut,
  initialTarget,
  onUsePassword,
}: {
  relayUrl: string;
  explanation: string | null;
  focus: boolean;
  signedOut: boolean;
  initialTarget: string;
  onUsePassword: () => void;
}) {
  const field = useSsoTarget(relayUrl, initialTarget, focus);
  const sso = useSsoAttempt(relayUrl);
  const { mine } = sso;
  const [linkedEmail, setLinkedEmail] = useState<string | null>(null);

  const start = async (): Promise<void> => {
    const orgId = field.parse();
    if (orgId === null) return;
    setLinkedEmail(null);
    await sso.begin(orgId);
  };

  // Linked, not signed in (the relay's answer): the next SSO sign-in opens the session, so it starts
  // by itself. The identity provider usually still has the rep signed in, so it takes a moment.
  const linked = (email: string): void => {
    if (mine?.status !== 'not-linked') return;
    setLinkedEmail(email);
    void sso.begin(mine.orgId);
  };

  // The link or second-factor step was left (or could not finish): the SSO form again, with the reason.
  const backToSso = (error: string | null): void => {
    sso.leave(error);
    field.refocus();
  };

  if (mine?.status === 'not-linked' && mine.relayUrl === relayUrl)
    return (
      <SsoLinkForm
        relayUrl={relayUrl}
        linkToken={mine.linkToken}
        onLinked={linked}
        onStartOver={() => backToSso(null)}
      />
    );
  if (mine?.status === 'mfa-required' && mine.relayUrl === relayUrl)
    return <SsoSecondFactor key={mine.attemptId} step={mine} onStartOver={backToSso} />;

  return (
    <form
      class="sign-in"
      aria-labelledby="sso-title"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <h2 id="sso-title">Sign in with SSO</h2>
      {signedOut && <SignedOutNotice />}
      {explanation !== null && (
        <p class="notice info" id="sso-explanation" data-testid="sso-required">
          {explanation}
        </p>
      )}
      <SsoTargetInput field={field} relayUrl={relayUrl} explained={explanation !== null} />
      <SsoActions sso={sso} onUsePassword={onUsePassword} />
      <div aria-live="polite">
        <SsoStatus startError={sso.startError} attempt={mine} linkedEmail={linkedEmail} />
      </div>
    </form>
  );
}

/** Start (or start again), cancel a running attempt, or switch to the password form. */
function SsoActions({ sso, onUsePassword }: { sso: SsoAttempt; onUsePassword: () => void }) {
  return (
    <div class="actions">
      <button type="submit" class="primary" disabled={sso.starting}>
        {isActive(sso.mine) ? 'Start again' : 'Continue with SSO'}
      </button>
      {isActive(sso.mine) && (
        <button type="button" onClick={sso.cancel}>
          Cancel
        </button>
      )}
      <button type="button" class="link" disabled={sso.waiting} onClick={onUsePassword}>
        Use email and password instead
      </button>
    </div>
  );
}
