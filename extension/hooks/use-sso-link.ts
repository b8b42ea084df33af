import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AuthApi } from '../lib/auth/auth-api.ts';
import { SsoLinkFlow, type SsoLinkState } from '../lib/auth/sso-link-flow.ts';

/**
 * The state of linking an SSO identity to an account that has its own password: the flow, the two fields,
 * and where the focus goes at each step. `onLinked` is called once, when the relay has linked the account.
 */
export function useSsoLink(relayUrl: string, linkToken: string, onLinked: (email: string) => void) {
  const [state, setState] = useState<SsoLinkState>({
    step: 'form',
    busy: false,
    error: null,
    codeNeeded: false,
  });
  const flow = useMemo(
    () => new SsoLinkFlow(new AuthApi(relayUrl), linkToken, setState),
    [relayUrl, linkToken],
  );
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const startOver = useRef<HTMLButtonElement>(null);
  // The link happens once; re-renders while the next sign-in starts must not start it again.
  const reported = useRef(false);

  // The step replaces the SSO form, so the password field takes the focus; once the relay asks for the
  // authenticator code, that field does; when only starting over is left, its button does.
  const codeNeeded = state.step === 'form' && state.codeNeeded;
  useEffect(() => passwordInput.current?.focus(), []);
  useEffect(() => {
    if (codeNeeded) codeInput.current?.focus();
  }, [codeNeeded]);
  useEffect(() => {
    if (state.step === 'needs-owner' || state.step === 'expired') startOver.current?.focus();
    if (state.step === 'linked' && !reported.current) {
      reported.current = true;
      onLinked(state.email);
    }
  }, [state, onLinked]);

  const submit = (): void => {
    void flow.submit(password, code).then(() => setPassword(''));
  };
  return {
    state,
    codeNeeded,
    password,
    setPassword,
    code,
    setCode,
    passwordInput,
    codeInput,
    startOver,
    submit,
  };
}
