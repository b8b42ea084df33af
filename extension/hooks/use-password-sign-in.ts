import { useEffect, useMemo, useState } from 'preact/hooks';
import { AuthApi } from '../lib/auth/auth-api.ts';
import { SignInFlow, type SignInState } from '../lib/auth/sign-in-flow.ts';
import { browserSessionStore, saveRelayUrl } from '../lib/settings.ts';
import { errorText, relayAccessRefusal } from './relay-access.ts';

/** The password form's fields and the sign-in flow behind them. */
export interface PasswordSignIn {
  state: SignInState;
  email: string;
  setEmail(email: string): void;
  password: string;
  setPassword(password: string): void;
  /** Saves the relay (after its host permission) and signs in with the email and password. */
  submitPassword(): Promise<void>;
  submitCode(code: string): void;
  restart(): void;
}

/** Password, then (when the relay asks) the second factor; `onUseSso` when the relay wants SSO instead. */
export function usePasswordSignIn(
  relayUrl: string | null,
  onUseSso: (explanation: string | null) => void,
): PasswordSignIn {
  const [state, setState] = useState<SignInState>({ step: 'credentials', busy: false, error: null });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const flow = useMemo(
    () => (relayUrl ? new SignInFlow(new AuthApi(relayUrl), browserSessionStore, relayUrl, setState) : null),
    [relayUrl],
  );
  useEffect(() => {
    if (state.step === 'sso-required') onUseSso(state.message);
  }, [state, onUseSso]);

  const submitPassword = async (): Promise<void> => {
    if (!flow || !relayUrl) return;
    try {
      const refusal = await relayAccessRefusal(relayUrl);
      if (refusal !== null) {
        setState({ step: 'credentials', busy: false, error: refusal });
        return;
      }
      await saveRelayUrl(relayUrl);
    } catch (error) {
      setState({ step: 'credentials', busy: false, error: errorText(error) });
      return;
    }
    await flow.submitPassword(email, password);
    setPassword('');
  };

  return {
    state,
    email,
    setEmail,
    password,
    setPassword,
    submitPassword,
    submitCode: (code) => void flow?.submitCode(code),
    restart: () => flow?.restart(),
  };
}
