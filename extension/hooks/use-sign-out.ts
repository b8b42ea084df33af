import { useState } from 'preact/hooks';
import { AuthApi } from '../lib/auth/auth-api.ts';
import { browserSessionVault } from '../lib/auth/session-vault.ts';
import { reported } from '../lib/reported.ts';
import { browserSessionStore } from '../lib/settings.ts';

/** Signing out, asking first when texts still wait in the offline outbox. */
export interface SignOut {
  busy: boolean;
  /** Texts that would wait until the next sign-in (0 until the rep was asked). */
  waiting: number;
  /** Signs out; `confirmed` once the rep was told about the waiting texts. */
  signOut(confirmed: boolean): Promise<void>;
}

export function useSignOut(): SignOut {
  const [busy, setBusy] = useState(false);
  const [waiting, setWaiting] = useState(0);
  const signOut = async (confirmed: boolean): Promise<void> => {
    setBusy(true);
    try {
      const current = await browserSessionStore.get().catch(reported('could not read the session', null));
      const scope = current ? { relayUrl: current.relayUrl, session: current, apiKey: null } : null;
      // Loaded on demand: the IndexedDB code is not part of the pages' shared bundle.
      const local = scope
        ? await import('../lib/store/local-store.ts').catch(reported('could not load the local store', null))
        : null;
      // Texts still in the offline outbox go out only while this rep is signed in: ask first.
      const queued =
        local && scope && !confirmed
          ? await local.waitingTexts(scope).catch(reported('could not count the texts waiting to go out', 0))
          : 0;
      if (queued > 0) {
        setWaiting(queued);
        return;
      }
      if (current)
        await new AuthApi(current.relayUrl)
          .signOut(current)
          // best effort: on the relay only; locally the session ends whatever it answers.
          .catch(() => undefined);
      // The kept copy goes first, so no browser restart (or background wake-up) can open the session
      // again; then the session, so an open panel can no longer save a thread back; then the saved
      // threads, which hold customer data, go with it.
      await browserSessionVault()
        .forget()
        .catch((error: unknown) => console.warn('[crm-texting] could not forget the kept session', error));
      await browserSessionStore.clear('signed-out');
      if (local && scope)
        await local
          .forgetLocalData(scope)
          .catch((error: unknown) => console.warn('[crm-texting] could not forget the saved threads', error));
    } finally {
      setBusy(false);
    }
  };
  return { busy, waiting, signOut };
}
