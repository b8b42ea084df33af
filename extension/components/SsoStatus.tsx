import { ssoCancelMessage } from '../lib/auth/error-messages.ts';
import type { SsoState } from '../lib/auth/sso-state.ts';

/** Where the SSO sign-in stands: the refusal to start, progress in the identity provider's tab, the outcome. */
export function SsoStatus({
  startError,
  attempt,
  linkedEmail,
}: {
  startError: string | null;
  attempt: SsoState | null;
  /** The account just linked to the identity provider, while the sign-in that follows runs. */
  linkedEmail: string | null;
}) {
  if (startError !== null) {
    return (
      <p class="notice error" role="alert" data-testid="sso-error">
        {startError}
      </p>
    );
  }
  switch (attempt?.status) {
    case 'pending':
      return linkedEmail !== null ? (
        <p class="notice info" data-testid="sso-pending">
          Linked {linkedEmail} to your company’s sign-in. Finishing SSO sign-in in the tab that opened…
        </p>
      ) : (
        <p class="notice info" data-testid="sso-pending">
          Finish signing in in the tab that opened. This page updates by itself when you are done; the sign-in
          stops after 10 minutes or if you close that tab.
        </p>
      );
    case 'exchanging':
      return (
        <p class="notice info" data-testid="sso-pending">
          Finishing sign-in…
        </p>
      );
    case 'signed-in':
      return (
        <p class="notice ok" data-testid="sso-signed-in">
          Signed in with SSO as <strong>{attempt.email}</strong>.
        </p>
      );
    case 'failed':
      return (
        <p class="notice error" role="alert" data-testid="sso-error">
          {attempt.message}
        </p>
      );
    case 'cancelled':
      return (
        <p class="notice warn" role="alert" data-testid="sso-cancelled">
          {ssoCancelMessage(attempt.reason)}
        </p>
      );
    default:
      return null;
  }
}
