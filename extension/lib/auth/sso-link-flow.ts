import { RelayError } from '../relay/relay-client.ts';
import type { AuthApi } from './auth-api.ts';
import { ssoLinkErrorMessage } from './error-messages.ts';

export type SsoLinkState =
  /** Asking for the password; `codeNeeded` once the relay said the account also has an authenticator. */
  | { step: 'form'; busy: boolean; error: string | null; codeNeeded: boolean }
  /** No password to prove the account with (none, or a passkey): only an owner can link it. */
  | { step: 'needs-owner'; message: string }
  /** The link token expired or was used: only a new SSO sign-in issues another. */
  | { step: 'expired'; message: string }
  /** Linked; the next SSO sign-in opens the session. */
  | { step: 'linked'; email: string };

/**
 * The options page's "link this account once" step after the relay answered `SSO_ACCOUNT_NOT_LINKED`.
 * The UI renders `state` and calls `submit`; refusals come back as state, never as throws. The token
 * and the password go only to the relay that issued the token.
 */
export class SsoLinkFlow {
  state: SsoLinkState = { step: 'form', busy: false, error: null, codeNeeded: false };

  constructor(
    private readonly api: Pick<AuthApi, 'linkSso'>,
    private readonly linkToken: string,
    private readonly onChange: (state: SsoLinkState) => void = () => undefined,
  ) {}

  private setState(state: SsoLinkState): void {
    this.state = state;
    this.onChange(state);
  }

  async submit(password: string, code: string): Promise<void> {
    const state = this.state;
    if (state.step !== 'form' || state.busy) return;
    const digits = code.replace(/\s+/g, '');
    if (password === '') {
      this.setState({ ...state, error: 'Enter your password.' });
      return;
    }
    if (state.codeNeeded && digits === '') {
      this.setState({ ...state, error: 'Enter the 6-digit code from your authenticator app.' });
      return;
    }
    // The relay takes only the app's current code here (no recovery codes), so say so before sending.
    if (digits !== '' && !/^[0-9]{6}$/.test(digits)) {
      this.setState({ ...state, error: 'The authenticator code is the 6 digits your app shows now.' });
      return;
    }
    this.setState({ ...state, busy: true, error: null });
    try {
      const linked = await this.api.linkSso(this.linkToken, password, digits === '' ? undefined : digits);
      this.setState({ step: 'linked', email: linked.email });
    } catch (error) {
      const code = error instanceof RelayError ? error.code : null;
      if (code === 'SSO_LINK_NEEDS_OWNER')
        this.setState({ step: 'needs-owner', message: ssoLinkErrorMessage(error) });
      else if (code === 'INVALID_LINK_TOKEN')
        this.setState({ step: 'expired', message: ssoLinkErrorMessage(error) });
      else
        this.setState({
          step: 'form',
          busy: false,
          error: ssoLinkErrorMessage(error),
          codeNeeded: state.codeNeeded || code === 'CODE_REQUIRED',
        });
    }
  }
}
