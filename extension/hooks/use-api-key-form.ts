import { useEffect, useState } from 'preact/hooks';
import { ensureRelayPermission } from '../lib/host-permission.ts';
import { RelayClient } from '../lib/relay/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import { reported } from '../lib/reported.ts';
import { loadSettings, saveSettings } from '../lib/settings.ts';
import { relayAccessRefusal } from './relay-access.ts';

/** What the last Save or Test connection did. */
export type ApiKeyOutcome =
  | { kind: 'saved' }
  | { kind: 'connected'; me: Me }
  | { kind: 'error'; error: unknown }
  | null;

/** The API key field, saving it, and testing it against `GET /v1/me`. */
export interface ApiKeyForm {
  apiKey: string;
  setApiKey(key: string): void;
  busy: boolean;
  outcome: ApiKeyOutcome;
  save(): Promise<void>;
  test(): Promise<void>;
}

/** Forgets the threads saved under a key that was just replaced or removed: they hold customer data. */
async function forgetThreadsOf(relayUrl: string, apiKey: string): Promise<void> {
  const local = await import('../lib/store/local-store.ts').catch(
    reported('could not load the local store to forget the threads saved under the old key', null),
  );
  await local
    ?.forgetLocalData({ relayUrl, session: null, apiKey })
    .catch((error: unknown) => console.warn('[crm-texting] could not forget the saved threads', error));
}

export function useApiKeyForm(
  relayUrl: string | null,
  initialKey: string,
  onRelaySaved: (url: string) => void,
): ApiKeyForm {
  const [apiKey, setApiKey] = useState(initialKey);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ApiKeyOutcome>(null);
  useEffect(() => setApiKey(initialKey), [initialKey]);

  /** Runs one action with the buttons disabled, reporting its outcome or error. */
  const run = async (action: () => Promise<ApiKeyOutcome>): Promise<void> => {
    setBusy(true);
    try {
      setOutcome(await action());
    } catch (error) {
      setOutcome({ kind: 'error', error });
    } finally {
      setBusy(false);
    }
  };

  const save = async (): Promise<void> => {
    if (!relayUrl) return;
    await run(async () => {
      const refusal = await relayAccessRefusal(relayUrl);
      if (refusal !== null) throw new Error(refusal);
      const before = await loadSettings();
      await saveSettings({ relayUrl, apiKey: apiKey.trim() || null });
      if (before.apiKey && before.apiKey !== apiKey.trim())
        await forgetThreadsOf(before.relayUrl, before.apiKey);
      onRelaySaved(relayUrl);
      return { kind: 'saved' };
    });
  };

  const test = async (): Promise<void> => {
    if (!relayUrl || !apiKey.trim()) return;
    await run(async () => {
      await ensureRelayPermission(relayUrl);
      const me = await new RelayClient({ baseUrl: relayUrl, apiKey: apiKey.trim() }).me();
      return { kind: 'connected', me };
    });
  };

  return { apiKey, setApiKey, busy, outcome, save, test };
}
