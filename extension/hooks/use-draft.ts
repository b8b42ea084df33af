import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { PanelStore } from '../lib/store/store-client.ts';

/**
 * The contact's saved draft (null while it loads; empty without a store), and a save that runs a
 * moment after the rep stops typing, not on every key.
 */
export function useDraft(
  store: PanelStore | null,
  contactKey: string,
): { draft: string | null; saveDraftSoon(body: string): void } {
  const [draft, setDraft] = useState<string | null>(store ? null : '');
  useEffect(() => {
    if (!store) return;
    store
      .loadDraft(contactKey)
      .then(setDraft)
      .catch(() => setDraft(''));
  }, [store, contactKey]);

  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const saveDraftSoon = useCallback(
    (body: string) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(
        () =>
          void store
            ?.saveDraft(contactKey, body)
            .catch((error: unknown) => console.warn('[crm-texting] could not save the draft', error)),
        400,
      );
    },
    [store, contactKey],
  );
  return { draft, saveDraftSoon };
}
