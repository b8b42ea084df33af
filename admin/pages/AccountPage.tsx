import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { Passkey, PasskeyList, TotpEnabled, TotpEnrolment } from '../../contract/auth.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import { Reauthenticate } from '../components/Reauthenticate.tsx';
import type { AdminApi } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { passkeyCreation, passkeysAvailable } from '../lib/passkey.ts';
import { type Action, useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

/** Runs a change that needs a recent sign-in; REAUTH_REQUIRED opens the password prompt instead of failing. */
function needingReauth(action: Action, ask: (open: boolean) => void) {
  return (change: () => Promise<string>, then?: () => void) =>
    action.run(async () => {
      try {
        const said = await change();
        ask(false);
        return said;
      } catch (error) {
        if ((error as { code?: string }).code === 'REAUTH_REQUIRED') ask(true);
        throw error;
      }
    }, then);
}

/** Your account: the second factors you sign in with (passkeys, an authenticator app). */
export function AccountPage({ api, me }: PageProps) {
  const action = useAction();
  const [reauth, setReauth] = useState(false);
  const run = needingReauth(action, setReauth);
  return (
    <section>
      <p class="hint">
        Signed in as {me.email ?? me.displayName}, role {me.role}. Adding a factor asks for your password if
        you signed in more than a few minutes ago.
      </p>
      {reauth && (
        <Reauthenticate
          api={api}
          why="A new sign-in factor is a key to your account."
          onDone={() => setReauth(false)}
        />
      )}
      <Said text={action.said} />
      {action.problem !== null && <Problem problem={action.problem} />}
      <Passkeys api={api} busy={action.busy} run={run} />
      <AuthenticatorApp api={api} busy={action.busy} run={run} />
    </section>
  );
}

type Run = ReturnType<typeof needingReauth>;

function Passkeys({ api, busy, run }: { api: AdminApi; busy: boolean; run: Run }) {
  const [list, reload] = useLoad(() => api.get<Static<typeof PasskeyList>>('/v1/auth/passkeys'), 'passkeys');
  return (
    <>
      <h2>Passkeys</h2>
      <p class="hint">A passkey on this computer or your phone signs you in without a password or code.</p>
      <Shown loaded={list} busy="Reading your passkeys…" retry={reload}>
        {({ passkeys }) =>
          passkeys.length === 0 ? (
            <p>No passkeys yet.</p>
          ) : (
            <ul class="cards">
              {passkeys.map((passkey) => (
                <PasskeyCard
                  key={passkey.id}
                  passkey={passkey}
                  busy={busy}
                  onRemove={() =>
                    run(async () => {
                      await api.delete(`/v1/auth/passkeys/${passkey.id}`);
                      return 'Passkey removed: it no longer signs you in.';
                    }, reload)
                  }
                />
              ))}
            </ul>
          )
        }
      </Shown>
      {passkeysAvailable() ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const options = await api.post<unknown>('/v1/auth/passkeys/options', {});
              const response = await passkeyCreation(options);
              await api.post('/v1/auth/passkeys', { response });
              return 'Passkey added: use it to sign in, or as your second step after the password.';
            }, reload)
          }
        >
          Add a passkey
        </button>
      ) : (
        <p class="hint">This browser cannot create passkeys.</p>
      )}
    </>
  );
}

function PasskeyCard({
  passkey,
  busy,
  onRemove,
}: {
  passkey: Static<typeof Passkey>;
  busy: boolean;
  onRemove: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const added = new Date(passkey.createdAt).toLocaleDateString();
  const used =
    passkey.lastUsedAt === null ? 'never used' : `last used ${new Date(passkey.lastUsedAt).toLocaleString()}`;
  return (
    <li class="card">
      <p>
        Passkey added {new Date(passkey.createdAt).toLocaleString()}, {used}
        {passkey.backedUp ? ' (synced to your other devices)' : ''}.
      </p>
      {confirming ? (
        <>
          <button type="button" class="danger" disabled={busy} onClick={onRemove}>
            Remove it: it will not sign me in again
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </>
      ) : (
        <button type="button" class="secondary" onClick={() => setConfirming(true)}>
          Remove passkey added {added}…
        </button>
      )}
    </li>
  );
}

function AuthenticatorApp({ api, busy, run }: { api: AdminApi; busy: boolean; run: Run }) {
  const [enrolment, setEnrolment] = useState<Static<typeof TotpEnrolment> | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <>
      <h2>Authenticator app</h2>
      {codes !== null ? (
        <div class="card">
          <p>
            Your recovery codes, shown this once: each signs you in once if you lose your phone. Keep them
            somewhere safe.
          </p>
          <pre>{codes.join('\n')}</pre>
        </div>
      ) : enrolment === null ? (
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              setEnrolment(await api.post<Static<typeof TotpEnrolment>>('/v1/auth/totp/enrol', {}));
              return 'Add the key below to your authenticator app, then enter the code it shows.';
            })
          }
        >
          Set up an authenticator app
        </button>
      ) : (
        <form
          aria-label="Confirm the authenticator app"
          onSubmit={(event) => {
            event.preventDefault();
            const code = String(new FormData(event.currentTarget as HTMLFormElement).get('code')).replace(
              /\s/g,
              '',
            );
            void run(async () => {
              const answer = await api.post<Static<typeof TotpEnabled>>('/v1/auth/totp/confirm', { code });
              setCodes(answer.recoveryCodes);
              setEnrolment(null);
              return 'Authenticator app added: sign-ins now ask for its code.';
            });
          }}
        >
          <p>
            In your authenticator app, add an account with this setup key (or open{' '}
            <a href={enrolment.otpauthUri}>this link</a> on the phone that has the app):
          </p>
          <p>
            <code class="setup-key">{enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
          </p>
          <label>
            The six-digit code the app shows
            <input
              name="code"
              autocomplete="one-time-code"
              inputMode="numeric"
              pattern="[0-9 ]{6,7}"
              required
            />
          </label>
          <button type="submit" disabled={busy}>
            Confirm authenticator app
          </button>
        </form>
      )}
    </>
  );
}
