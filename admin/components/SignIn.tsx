import { useState } from 'preact/hooks';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import { asProblem } from '../lib/use-load.ts';
import { Busy, Problem } from './Problem.tsx';

type Step = { kind: 'password' } | { kind: 'second_factor'; mfaToken: string; factors: string[] };

/**
 * Signing in to the console: the relay's own password step, then the second factor the account
 * has (authenticator code or a recovery code), as the extension does.
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
  const [busy, setBusy] = useState(false);

  async function attempt(run: () => Promise<void>) {
    setBusy(true);
    setProblem(null);
    try {
      await run();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  }

  function submitPassword(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    void attempt(async () => {
      const answer = await api.signIn(String(form.get('email')), String(form.get('password')));
      if (answer.kind === 'signed_in') onSignedIn();
      else setStep(answer);
    });
  }

  function submitCode(event: SubmitEvent) {
    event.preventDefault();
    if (step.kind !== 'second_factor') return;
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const code = String(form.get('code') ?? '').replace(/\s/g, '');
    void attempt(async () => {
      await api.secondFactor(step.mfaToken, /^\d{6}$/.test(code) ? { code } : { recoveryCode: code });
      onSignedIn();
    });
  }

  return (
    <main class="sign-in">
      <h1>CRM Texting admin console</h1>
      {notice !== null && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {step.kind === 'password' ? (
        <form onSubmit={submitPassword}>
          <label>
            Email
            <input name="email" type="email" autocomplete="username" required />
          </label>
          <label>
            Password
            <input name="password" type="password" autocomplete="current-password" required />
          </label>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      ) : (
        <form onSubmit={submitCode}>
          <p>
            {step.factors.includes('totp')
              ? 'Enter the six-digit code from your authenticator app, or one of your recovery codes.'
              : 'This account signs in with a passkey, which the console does not offer yet: enter one of your recovery codes, or sign in from the extension.'}
          </p>
          <label>
            Code
            <input name="code" autocomplete="one-time-code" inputMode="text" required />
          </label>
          <button type="submit" disabled={busy}>
            Verify
          </button>
          <button type="button" class="secondary" onClick={() => setStep({ kind: 'password' })}>
            Start again
          </button>
        </form>
      )}
      {busy && <Busy label="Signing in…" />}
      {problem !== null && <Problem problem={problem} />}
    </main>
  );
}
