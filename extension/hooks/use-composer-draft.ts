import { useEffect, useRef, useState } from 'preact/hooks';

/** The composer's text and the notice about the last send. */
export interface ComposerDraft {
  body: string;
  /** Replaces the text; the draft is saved, and a new draft makes the last send's notice stale. */
  setBody(body: string): void;
  notice: string | null;
  setNotice(notice: string | null): void;
}

/**
 * `scheduleChanges` counts changes the rep made to scheduled texts (moved, cancelled): each makes a
 * "Scheduled: <time>" notice stale, so it goes (the list of scheduled texts says what holds now).
 */
export function useComposerDraft(
  initialDraft: string,
  onDraftChange: (body: string) => void,
  scheduleChanges = 0,
): ComposerDraft {
  const [body, setBodyState] = useState(initialDraft);
  const [notice, setNotice] = useState<string | null>(null);
  const seenChanges = useRef(scheduleChanges);
  useEffect(() => {
    if (seenChanges.current === scheduleChanges) return;
    seenChanges.current = scheduleChanges;
    setNotice(null);
  }, [scheduleChanges]);
  const setBody = (next: string): void => {
    setBodyState(next);
    onDraftChange(next);
    // A new draft makes the last send's notice stale; clearing the box after a send keeps it.
    if (next !== '') setNotice(null);
  };
  return { body, setBody, notice, setNotice };
}
