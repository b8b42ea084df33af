import { useState } from 'preact/hooks';
import { sendToBackground } from '../lib/messaging.ts';

/** Shown until an API key is saved for this browser session. */
export function NotConfigured() {
  const [failed, setFailed] = useState(false);
  const open = (): void => {
    sendToBackground({ type: 'open-options' }).catch(() => setFailed(true));
  };
  return (
    <div class="centered" data-state="unconfigured">
      <h1>Texting is not set up yet</h1>
      <p>
        Connect this browser to your relay: enter the relay address and your API key in the extension
        settings. The key is kept only until you close the browser.
      </p>
      <button type="button" class="primary" onClick={open}>
        Open settings
      </button>
      {failed && (
        <p class="notice error">Could not open settings. Open them from the browser's extensions menu.</p>
      )}
    </div>
  );
}
