import { useRef, useState } from 'preact/hooks';
import type { ApiProblem } from './api.ts';
import { asProblem } from './use-load.ts';

/** A page's changes: what the last one did, or the problem it met, and whether one is running. */
export interface Action {
  said: string | null;
  problem: ApiProblem | null;
  busy: boolean;
  /** Runs a change that answers with what it did; a second click while one runs is ignored. */
  run: (change: () => Promise<string>, then?: () => void) => Promise<boolean>;
  clear: () => void;
}

/** One "do it, then say what happened or what went wrong" flow, as every console page needs. */
export function useAction(): Action {
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  // The guard reads a ref, not the render's `busy`: two clicks before a re-render still make one change.
  const running = useRef(false);
  return {
    said,
    problem,
    busy,
    clear: () => {
      setSaid(null);
      setProblem(null);
    },
    run: async (change, then) => {
      if (running.current) return false;
      running.current = true;
      setBusy(true);
      setSaid(null);
      setProblem(null);
      try {
        setSaid(await change());
        then?.();
        return true;
      } catch (error) {
        setProblem(asProblem(error));
        return false;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
  };
}
