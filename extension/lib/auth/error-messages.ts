import { RelayError } from '../relay/relay-client.ts';
import type { SsoCancelReason } from './sso-state.ts';

// Plain-language text for every way a sign-in step (password, second factor, SSO, account link) can fail.

/** Plain-language text for a failed sign-in step. */
export function signInErrorMessage(error: unknown): string {
  if (!(error instanceof RelayError)) return error instanceof Error ? error.message : String(error);
  switch (error.code) {
    case 'INVALID_CREDENTIALS':
      return 'The email or password is not right.';
    case 'INVALID_CODE':
      return 'That code is not right (or was already used). Check your authenticator app and try again.';
    case 'INVALID_MFA_TOKEN':
      return 'This sign-in step expired. Start again with your email and password.';
    case 'CODE_REQUIRED':
      return 'Enter the 6-digit code from your authenticator app, or a recovery code.';
    case 'TOO_MANY_ATTEMPTS': {
      const wait = error.retryAfterSeconds;
      const when =
        wait === null
          ? 'later'
          : wait < 90
            ? `in ${Math.ceil(wait)} seconds`
            : `in ${Math.ceil(wait / 60)} minutes`;
      return `Too many attempts. Try again ${when}.`;
    }
    case 'SSO_REQUIRED':
      return 'Your organisation signs in with single sign-on (SSO), not a password here. Use “Sign in with SSO”.';
    case 'SECOND_FACTOR_ENROLMENT_REQUIRED':
      return 'Your organisation requires an authenticator app. Set it up in the relay web app, then sign in here.';
    case 'VALIDATION_FAILED':
    case 'BAD_REQUEST':
      return 'Check the email address and the code format.';
    default:
      return error.message;
  }
}

/** Plain-language text for a refused account link (`POST /v1/sso/saml/link`). */
export function ssoLinkErrorMessage(error: unknown): string {
  if (error instanceof RelayError) {
    switch (error.code) {
      case 'INVALID_CREDENTIALS':
        return 'The password or authenticator code is not right.';
      case 'CODE_REQUIRED':
        return 'This account also uses an authenticator app: enter its 6-digit code with your password.';
      case 'SSO_LINK_NEEDS_OWNER':
        return 'This account cannot be linked with a password. Ask your organisation’s owner to link your account.';
      case 'INVALID_LINK_TOKEN':
        return 'This link request expired (it lasts 10 minutes) or was already used. Start SSO sign-in again.';
      case 'VALIDATION_FAILED':
      case 'BAD_REQUEST':
        return 'Check the password, and that the authenticator code is 6 digits.';
    }
  }
  return signInErrorMessage(error);
}

/** Plain-language text for a failed exchange (or the account look-up after it). */
export function ssoErrorMessage(error: unknown): string {
  if (error instanceof RelayError) {
    switch (error.code) {
      case 'INVALID_CODE':
        return 'The sign-in code from your identity provider expired or was already used. Start SSO sign-in again.';
      case 'NETWORK_ERROR':
        return `You signed in at your identity provider, but the extension could not reach the relay to finish. ${error.message}`;
      case 'SSO_NOT_CONFIGURED':
        return 'This organisation has no single sign-on set up on this relay. Check the link with your admin.';
      case 'USER_DEACTIVATED':
        return 'Your account on the relay is deactivated. Ask your admin.';
    }
  }
  return signInErrorMessage(error);
}

/** Text for how an attempt ended without a session, for the options page. */
export function ssoCancelMessage(reason: SsoCancelReason): string {
  switch (reason) {
    case 'tab-closed':
      return 'SSO sign-in stopped because its tab was closed. Start again when you are ready.';
    case 'expired':
      return 'SSO sign-in took longer than 10 minutes and was stopped. Start again.';
    case 'cancelled':
      return 'SSO sign-in was cancelled.';
  }
}
