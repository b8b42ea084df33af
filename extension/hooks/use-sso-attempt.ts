import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { isActive, parseSsoState, SSO_STATE_KEY, type SsoState } from '../lib/auth/sso-state.ts';
import { type ProtocolMessage, parseSsoStartResponse } from '../lib/messages/extension-messages.ts';
import { saveRelayUrl } from '../lib/settings.ts';
import { errorText, relayAccessRefusal } from './relay-access.ts';

/** This page's SSO sign-in attempt, as the background keeps it in session storage. */
export interface SsoAttempt {
  /** The attempt this page started (or adopted after a reload); null when there is none. */
  mine: SsoState | null;
  starting: boolean;
  /** Starting, or an attempt under way. */
  waiting: boolean;
  startError: string | null;
  setStartError(error: string | null): void;
  /** Asks the background to open the organisation's sign-in in a tab. */
  begin(orgId: string): Promise<void>;
  cancel(): void;
  /** Forgets the attempt (its link or second-factor step was left), showing `error` when there is one. */
  leave(error: string | null): void;
}

/** Follows the background's SSO attempt for `relayUrl` and starts or cancels one. */
export function useSsoAttempt(relayUrl: string): SsoAttempt {
  const [startError, setStartError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [attemptId, setAttemptId] = useState<string | null>(null);

  const attempt = useSsoState(relayUrl, setAttemptId);

  const mine = attempt !== null && attempt.attemptId === attemptId ? attempt : null;

  const begin = async (orgId: string): Promise<void> => {
    setStartError(null);
    setStarting(true);
    try {
      const refusal = await relayAccessRefusal(relayUrl);
      if (refusal !== null) {
        setStartError(refusal);
        return;
      }
      await saveRelayUrl(relayUrl);
      const message: ProtocolMessage = { type: 'sso-start', relayUrl, orgId };
      // best effort: no answer from the background parses as "did not start SSO", which is shown below.
      const answer = parseSsoStartResponse(await browser.runtime.sendMessage(message).catch(() => undefined));
      if (!answer.ok) {
        setStartError(answer.message);
        return;
      }
      setAttemptId(answer.attemptId);
    } catch (error) {
      setStartError(errorText(error));
    } finally {
      setStarting(false);
    }
  };

  const cancel = (): void => {
    const message: ProtocolMessage = { type: 'sso-cancel' };
    browser.runtime
      .sendMessage(message)
      .catch((error: unknown) => console.warn('[crm-texting] could not cancel the SSO sign-in', error));
  };

  const leave = (error: string | null): void => {
    setAttemptId(null);
    setStartError(error);
  };

  return {
    mine,
    starting,
    waiting: starting || isActive(mine),
    startError,
    setStartError,
    begin,
    cancel,
    leave,
  };
}

/**
 * The SSO attempt the background keeps in session storage, followed as it changes. An attempt already under
 * way for this relay when the page opens (it was reloaded) is handed to `adoptAttempt` as this page's own.
 */
function useSsoState(relayUrl: string, adoptAttempt: (attemptId: string) => void): SsoState | null {
  const [attempt, setAttempt] = useState<SsoState | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const show = (value: unknown, adopt: boolean): void => {
      const next = parseSsoState(value);
      // An attempt already under way for this relay (the page was reloaded) is shown as ours.
      if (adopt && isActive(next) && next.relayUrl === relayUrl) adoptAttempt(next.attemptId);
      setAttempt(next);
    };
    browser.storage.session
      .get(SSO_STATE_KEY)
      .then((stored) => {
        if (!controller.signal.aborted) show(stored[SSO_STATE_KEY], true);
      })
      .catch((error: unknown) => console.warn('[crm-texting] could not read the SSO sign-in state', error));
    const listener = (changes: Record<string, { newValue?: unknown }>, area: string): void => {
      const change = changes[SSO_STATE_KEY];
      if (area === 'session' && change) show(change.newValue, false);
    };
    browser.storage.onChanged.addListener(listener);
    controller.signal.addEventListener('abort', () => browser.storage.onChanged.removeListener(listener), {
      once: true,
    });
    return () => controller.abort();
  }, [relayUrl, adoptAttempt]);
  return attempt;
}
