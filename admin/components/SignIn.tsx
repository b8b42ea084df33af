import { useEffect, useState } from 'preact/hooks';
import { type AdminApi, ApiProblem, type SignInStep } from '../lib/api.ts';
import { passkeysAvailable } from '../lib/passkey.ts';
import { takeSsoReturn } from '../lib/sso.ts';
import { asProblem } from '../lib/use-load.ts';
import { Busy, Problem } from './Problem.tsx';
import { SsoLinkForm, SsoStartForm } from './SsoForms.tsx';

type Step =
  | { kind: 'password' }
  | { kind: 'sso' }
  | { kind: 'sso_link'; linkToken: string }
  | Extract<SignInStep, { kind: 'second_factor' }>;

/**
 * Signing in to the console as the extension does: password, then the account's second factor
 * (authenticator code, passkey or recovery code); a passkey alone; or the org's single sign-on,
 * which comes back here (#/sso-return) with a one-time code bound to this tab.
 */
export function SignIn({
  api,
  notice,
  onSignedIn,
}: {
  api: AdminApi;
  notice: string | null;
  onSignedIn: () => void;
}) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [said, setSaid] = useState<string | null>(notice);
  const [busy, setBusy] = useState<string | null>(null);

  async function attempt(label: string, run: () => Promise<void>) {
    setBusy(label);
    setProblem(null);
    setSaid(null);
    try {
      await run();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(null);
    }
  }

  /** After a first step: in, or on to the second factor. */
  const follow = (answer: SignInStep) => (answer.kind === 'signed_in' ? onSignedIn() : setStep(answer));

  useEffect(() => {
    const back = takeSsoReturn(location.hash);
    if (back === null) return;
    location.replace(`${location.pathname}#/overview`);
    if (back.kind === 'refused') setProblem(new ApiProblem(0, back.code, back.message));
    else if (back.kind === 'not_linked') setStep({ kind: 'sso_link', linkToken: back.linkToken });
    else void attempt('Finishing single sign-on…', async () => follow(await api.ssoExchange(back.code)));
  }, []);

  return (
    <main class="sign-in">
      <h1>CRM Texting admin console</h1>
      {said !== null && (
        <p class="notice" role="status">
          {said}
        </p>
      )}
      {step.kind === 'password' && (
        <PasswordForm
          busy={busy !== null}
          onPassword={(email, password) =>
            attempt('Signing in…', async () => follow(await api.signIn(email, password)))
          }
          onPasskey={(email) =>
            attempt('Waiting for your passkey…', () => api.passkeySignIn(email).then(onSignedIn))
          }
          onSso={() => setStep({ kind: 'sso' })}
        />
      )}
      {step.kind === 'second_factor' && (
        <SecondFactorForm
          factors={step.factors}
          busy={busy !== null}
          onCode={(code) =>
            attempt('Signing in…', async () => {
              await api.secondFactor(step.mfaToken, /^\d{6}$/.test(code) ? { code } : { recoveryCode: code });
              onSignedIn();
            })
          }
          onPasskey={() =>
            attempt('Waiting for your passkey…', () =>
              api.passkeySecondFactor(step.mfaToken).then(onSignedIn),
            )
          }
          onRestart={() => setStep({ kind: 'password' })}
        />
      )}
      {step.kind === 'sso' && <SsoStartForm onBack={() => setStep({ kind: 'password' })} />}
      {step.kind === 'sso_link' && (
        <SsoLinkForm
          busy={busy !== null}
          onLink={(password, code) =>
            attempt('Linking your account…', async () => {
              await api.ssoLink(step.linkToken, password, code);
              setSaid('Your account is linked to your identity provider. Sign in with single sign-on again.');
              setStep({ kind: 'sso' });
            })
          }
          onBack={() => setStep({ kind: 'password' })}
        />
      )}
      {busy !== null && <Busy label={busy} />}
      {problem !== null && <Problem problem={problem} />}
    </main>
  );
}

function PasswordForm({
  busy,
  onPassword,
  onPasskey,
  onSso,
}: {
  busy: boolean;
  onPassword: (email: string, password: string) => Promise<void>;
  onPasskey: (email: string) => Promise<void>;
  onSso: () => void;
}) {
  const [email, setEmail] = useState('');
  return (
    <>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget as HTMLFormElement);
          void onPassword(email, String(form.get('password')));
        }}
      >
        <label>
          Email
          <input
            name="email"
            type="email"
            autocomplete="username webauthn"
            required
            value={email}
            onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p class="hint">Or:</p>
      {passkeysAvailable() && (
        <button type="button" class="secondary" disabled={busy} onClick={() => void onPasskey(email.trim())}>
          Sign in with a passkey
        </button>
      )}
      <button type="button" class="secondary" disabled={busy} onClick={onSso}>
        Sign in with single sign-on
      </button>
    </>
  );
}

function SecondFactorForm({
  factors,
  busy,
  onCode,
  onPasskey,
  onRestart,
}: {
  factors: string[];
  busy: boolean;
  onCode: (code: string) => Promise<void>;
  onPasskey: () => Promise<void>;
  onRestart: () => void;
}) {
  const passkey = factors.includes('passkey') && passkeysAvailable();
  const totp = factors.includes('totp');
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget as HTMLFormElement);
        void onCode(String(form.get('code') ?? '').replace(/\s/g, ''));
      }}
    >
      <p>
        {passkey && 'Use your passkey. '}
        {totp
          ? 'Enter the six-digit code from your authenticator app, or one of your recovery codes.'
          : 'Or enter one of your recovery codes, if you have them.'}
      </p>
      {passkey && (
        <button type="button" disabled={busy} onClick={() => void onPasskey()}>
          Use my passkey
        </button>
      )}
      <label>
        Code
        <input name="code" autocomplete="one-time-code" inputMode="text" required={!passkey} />
      </label>
      <button type="submit" disabled={busy}>
        Verify
      </button>
      <button type="button" class="secondary" onClick={onRestart}>
        Start again
      </button>
    </form>
  );
}
