import { useState } from 'preact/hooks';
import { sendToBackground } from '../lib/messages/background-requests.ts';

/** Shown until the rep signs in (or saves an API key), and after a session could not be refreshed. */
export function NotConfigured({ signedOut = false }: { signedOut?: boolean }) {
  const [failed, setFailed] = useState(false);
  const open = (): void => {
    sendToBackground({ type: 'open-options' }).catch(() => setFailed(true));
  };
  return (
    <div class="centered" data-state={signedOut ? 'signed-out' : 'unconfigured'}>
      {signedOut ? (
        <>
          <h1>Signed out — sign in again</h1>
          <p>Your sign-in expired or was ended. Sign in again in the extension settings to keep texting.</p>
        </>
      ) : (
        <>
          <h1>Texting is not set up yet</h1>
          <p>
            Connect this browser to your relay: enter the relay address and sign in in the extension settings.
            You stay signed in when the browser restarts, unless your organisation asks for a sign-in each
            time.
          </p>
        </>
      )}
      <button type="button" class="primary" onClick={open}>
        {signedOut ? 'Sign in again' : 'Open settings'}
      </button>
      {failed && (
        <p class="notice error">Could not open settings. Open them from the browser's extensions menu.</p>
      )}
    </div>
  );
}
