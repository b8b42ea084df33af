import { RelayError } from '../relay/relay-client.ts';
import type { AuthApi } from './auth-api.ts';
import type { IssuedTokens } from './auth-responses.ts';
import { signInErrorMessage } from './error-messages.ts';
import type { SessionStore } from './session.ts';

export type SignInState =
  | { step: 'credentials'; busy: boolean; error: string | null }
  | {
      step: 'second-factor';
      busy: boolean;
      error: string | null;
      email: string;
      mfaToken: string;
      /** How the first step was passed: a password here, or the identity provider (SSO). */
      via: 'password' | 'sso';
    }
  /** The relay refused a password because the organisation signs in through its identity provider. */
  | { step: 'sso-required'; email: string; message: string }
  | { step: 'signed-in'; email: string };

/**
 * The options page's sign-in: password, then (when the relay asks) a second factor, then the session is
 * stored. The UI renders `state` and calls the methods; errors come back as state, never as throws.
 */
export class SignInFlow {
  state: SignInState = { step: 'credentials', busy: false, error: null };

  constructor(
    private readonly api: AuthApi,
    private readonly store: SessionStore,
    private readonly relayUrl: string,
    private readonly onChange: (state: SignInState) => void = () => undefined,
  ) {}

  private setState(state: SignInState): void {
    this.state = state;
    this.onChange(state);
  }

  async submitPassword(email: string, password: string): Promise<void> {
    if (this.state.step !== 'credentials' || this.state.busy) return;
    const cleanEmail = email.trim();
    if (!cleanEmail || !password) {
      this.setState({ step: 'credentials', busy: false, error: 'Enter your email and password.' });
      return;
    }
    this.setState({ step: 'credentials', busy: true, error: null });
    try {
      const outcome = await this.api.login(cleanEmail, password);
      if (outcome.kind === 'mfa') {
        this.setState({
          step: 'second-factor',
          busy: false,
          error: null,
          email: cleanEmail,
          mfaToken: outcome.mfaToken,
          via: 'password',
        });
      } else {
        await this.finish(cleanEmail, outcome.tokens);
      }
    } catch (error) {
      if (error instanceof RelayError && error.code === 'SSO_REQUIRED') {
        this.setState({ step: 'sso-required', email: cleanEmail, message: signInErrorMessage(error) });
      } else {
        this.setState({ step: 'credentials', busy: false, error: signInErrorMessage(error) });
      }
    }
  }

  async submitCode(code: string): Promise<void> {
    const state = this.state;
    if (state.step !== 'second-factor' || state.busy) return;
    if (!code.trim()) {
      this.setState({ ...state, error: 'Enter the 6-digit code or a recovery code.' });
      return;
    }
    this.setState({ ...state, busy: true, error: null });
    try {
      await this.finish(state.email, await this.api.secondFactor(state.mfaToken, code));
    } catch (error) {
      // An expired or used MFA token cannot be retried: back to the first step.
      if (error instanceof RelayError && error.code === 'INVALID_MFA_TOKEN') {
        const message =
          state.via === 'sso'
            ? 'This sign-in step expired. Start SSO sign-in again.'
            : signInErrorMessage(error);
        this.setState({ step: 'credentials', busy: false, error: message });
      } else {
        this.setState({ ...state, busy: false, error: signInErrorMessage(error) });
      }
    }
  }

  /**
   * Continues an SSO sign-in whose identity provider step passed but whose account has a second factor:
   * the same code step as after a password.
   */
  continueAfterSso(email: string, mfaToken: string): void {
    this.setState({ step: 'second-factor', busy: false, error: null, email, mfaToken, via: 'sso' });
  }

  /** Back to the password step (e.g. "Use a different account"). */
  restart(): void {
    this.setState({ step: 'credentials', busy: false, error: null });
  }

  private async finish(email: string, tokens: IssuedTokens): Promise<void> {
    await this.store.set({ relayUrl: this.relayUrl, email, ...tokens });
    this.setState({ step: 'signed-in', email });
  }
}
