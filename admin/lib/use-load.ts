import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api.ts';

/** What a page shows while it reads from the relay: progress, the answer, or what went wrong. */
export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'ready'; value: T }
  | { state: 'failed'; problem: ApiProblem };

/** Turns anything thrown into a problem a person can act on. */
export function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  return new ApiProblem(
    0,
    'NETWORK_ERROR',
    'The relay could not be reached. Check that it is running and that this computer is online, then try again.',
  );
}

/**
 * Runs `load` when `key` changes and on reload(); an answer that arrives after a newer request
 * started is dropped, so a slow first page never overwrites a later filter's. A reload keeps what
 * is shown until the new answer arrives, so forms on the page (and what they just said) stay.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const shownKey = useRef<string | null>(null);
  useEffect(() => {
    let current = true;
    if (shownKey.current !== key) setLoaded({ state: 'loading' });
    shownKey.current = key;
    load().then(
      (value) => current && setLoaded({ state: 'ready', value }),
      (error: unknown) => current && setLoaded({ state: 'failed', problem: asProblem(error) }),
    );
    return () => {
      current = false;
    };
  }, [key, round]);
  return [loaded, reload];
}
