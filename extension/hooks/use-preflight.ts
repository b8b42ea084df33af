import { useEffect, useState } from 'preact/hooks';
import type { RelayClient, SendMessageInput } from '../lib/relay/relay-client.ts';
import type { Preflight } from '../lib/relay-types.ts';

export interface PreflightState {
  /** The relay's answer for `checked`, or null before the first answer. */
  result: Preflight | null;
  /** The draft `result` is about (the composer ignores an answer for an older draft). */
  checked: string | null;
  /** The last check failed (relay unreachable…); the relay still checks again when the text is sent. */
  error: unknown;
  pending: boolean;
}

const IDLE: PreflightState = { result: null, checked: null, error: null, pending: false };

/**
 * Asks the relay what it would decide for the draft, `delayMs` after the rep stops typing. An answer
 * for an older draft is dropped, so the composer never shows a verdict about text that is gone.
 */
export function usePreflight(
  client: RelayClient,
  input: SendMessageInput | null,
  delayMs = 300,
  /** Changing it asks again for the same draft (after the relay refused a send, say). */
  generation = 0,
): PreflightState {
  const [state, setState] = useState<PreflightState>(IDLE);
  const key = input ? JSON.stringify(input) : null;

  useEffect(() => {
    if (!input || key === null) {
      setState(IDLE);
      return undefined;
    }
    setState((s) => ({ ...s, pending: true }));
    const controller = new AbortController();
    const timer = setTimeout(() => {
      client
        .preflight(input, controller.signal)
        .then((result) => setState({ result, checked: key, error: null, pending: false }))
        .catch((error: unknown) => {
          if (controller.signal.aborted) return;
          setState({ result: null, checked: key, error, pending: false });
        });
    }, delayMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // `key` stands for `input`: a new object with the same content must not re-check.
  }, [client, key, delayMs, generation]);

  return state;
}
