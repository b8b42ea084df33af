import { useEffect, useState } from 'preact/hooks';
import { browserExplainedStore, type ExplainedStore, REFUSAL_GUIDE } from '../lib/refusal-guide.ts';

/**
 * The first time a rep meets a kind of refusal: why the rule exists and what to do instead, until
 * they say "Got it". Nothing for a code without a guide, or one already explained.
 */
export function RefusalGuide({
  code,
  store = browserExplainedStore,
}: {
  code: string;
  store?: ExplainedStore;
}) {
  const guide = REFUSAL_GUIDE[code];
  const [show, setShow] = useState(false);
  useEffect(() => {
    if (guide === undefined) return;
    let current = true;
    store.load().then(
      (seen) => current && setShow(!seen.includes(code)),
      // best effort: storage that cannot be read shows the explanation, which is never harmful
      () => current && setShow(true),
    );
    return () => {
      current = false;
    };
  }, [code, guide, store]);
  if (guide === undefined || !show) return null;
  return (
    <div class="refusal-guide" data-guide={code}>
      <p>
        <strong>Why:</strong> {guide.why}
      </p>
      <p>
        <strong>What to do instead:</strong> {guide.instead}
      </p>
      <button
        type="button"
        class="link"
        onClick={() => {
          setShow(false);
          // best effort: if it cannot be stored, the explanation shows again next time
          store.add(code).catch(() => undefined);
        }}
      >
        Got it
      </button>
    </div>
  );
}
