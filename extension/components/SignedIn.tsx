import { useSignOut } from '../hooks/use-sign-out.ts';
import { useSignedInMe } from '../hooks/use-signed-in-me.ts';
import type { Settings } from '../lib/settings.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

/** Who is signed in (from `GET /v1/me`) and the way out. */
export function SignedIn({ settings }: { settings: Settings }) {
  const email = settings.session?.email;
  const { me, error } = useSignedInMe(settings.session?.relayUrl, email);
  const { busy, waiting, signOut } = useSignOut();

  return (
    <section class="signed-in" aria-labelledby="signed-in-title">
      <h2 id="signed-in-title">Signed in</h2>
      <p class="notice ok" data-testid="signed-in">
        Signed in as <strong>{email}</strong>
        {me && (
          <>
            {' '}
            to <strong>{me.orgName}</strong> ({me.role})
          </>
        )}
        .
      </p>
      {error !== null && <ErrorNotice error={error} />}
      {waiting > 0 && (
        <p class="notice warn" role="alert" data-testid="outbox-waiting">
          {waiting} text{waiting === 1 ? ' is' : 's are'} still waiting for a connection to the relay. Signed
          out,
          {waiting === 1 ? ' it waits' : ' they wait'} until you sign in again.
        </p>
      )}
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void signOut(waiting > 0)}>
          {waiting > 0 ? 'Sign out anyway' : 'Sign out'}
        </button>
      </div>
    </section>
  );
}
