import { useState } from 'preact/hooks';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import { asProblem } from '../lib/use-load.ts';
import { Problem } from './Problem.tsx';

/** Proving the password again, for the changes the relay keeps for a recent sign-in (REAUTH_REQUIRED). */
export function Reauthenticate({ api, why, onDone }: { api: AdminApi; why: string; onDone: () => void }) {
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [password, setPassword] = useState('');
  return (
    <fieldset>
      <legend>Confirm it is you</legend>
      <p>{why} Enter your password, then save again.</p>
      <label>
        Your password
        <input
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <button
        type="button"
        onClick={async () => {
          try {
            await api.post('/v1/auth/reauth', { password });
            onDone();
          } catch (error) {
            setProblem(asProblem(error));
          }
        }}
      >
        Confirm
      </button>
      {problem !== null && <Problem problem={problem} />}
    </fieldset>
  );
}
