import { useState } from 'preact/hooks';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import { asProblem } from '../lib/use-load.ts';
import { Busy, Problem } from './Problem.tsx';

/**
 * Proving it is you again, for the changes the relay keeps for a recent sign-in (REAUTH_REQUIRED):
 * your password, or a code from your authenticator app (an account that signs in through SSO may
 * have no password).
 */
export function Reauthenticate({ api, why, onDone }: { api: AdminApi; why: string; onDone: () => void }) {
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [byCode, setByCode] = useState(false);
  return (
    <form
      aria-label="Confirm it is you"
      onSubmit={async (event) => {
        event.preventDefault();
        const value = String(new FormData(event.currentTarget as HTMLFormElement).get('secret'));
        setBusy(true);
        setProblem(null);
        try {
          await api.post(
            '/v1/auth/reauth',
            byCode ? { code: value.replace(/\s/g, '') } : { password: value },
          );
          onDone();
        } catch (error) {
          setProblem(asProblem(error));
        } finally {
          setBusy(false);
        }
      }}
    >
      <fieldset>
        <legend>Confirm it is you</legend>
        <p>
          {why} Enter your {byCode ? 'authenticator code' : 'password'}, then save again.
        </p>
        {byCode ? (
          <label key="code">
            Code from your authenticator app
            <input name="secret" autocomplete="one-time-code" inputMode="numeric" required />
          </label>
        ) : (
          <label key="password">
            Your password
            <input name="secret" type="password" autocomplete="current-password" required />
          </label>
        )}
        <button type="submit" disabled={busy}>
          Confirm
        </button>
        <button type="button" class="secondary" onClick={() => setByCode(!byCode)}>
          {byCode ? 'Use my password instead' : 'Use an authenticator code instead'}
        </button>
        {busy && <Busy label="Checking…" />}
        {problem !== null && <Problem problem={problem} />}
      </fieldset>
    </form>
  );
}
