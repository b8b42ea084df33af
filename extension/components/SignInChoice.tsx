import { useSignInMethod } from '../hooks/use-sign-in-method.ts';
import { PasswordSignInForm } from './PasswordSignInForm.tsx';
import { SsoSignInForm } from './SsoSignInForm.tsx';

/**
 * Password or SSO. Opens on SSO when this relay was last signed in to that way or an SSO sign-in is
 * under way, and switches to it (saying why) when the relay refuses a password for an SSO-only org.
 */
export function SignInChoice({ relayUrl, signedOut }: { relayUrl: string | null; signedOut: boolean }) {
  const { method, setMethod, rememberedOrg, ready } = useSignInMethod(relayUrl);
  if (!ready) return null;
  return method.kind === 'sso' && relayUrl !== null ? (
    <SsoSignInForm
      relayUrl={relayUrl}
      explanation={method.explanation}
      focus={method.focus}
      signedOut={signedOut}
      initialTarget={rememberedOrg ?? ''}
      onUsePassword={() => setMethod({ kind: 'password' })}
    />
  ) : (
    <PasswordSignInForm
      relayUrl={relayUrl}
      signedOut={signedOut}
      onUseSso={(explanation) => setMethod({ kind: 'sso', explanation, focus: true })}
    />
  );
}
