import { useEffect, useRef } from 'preact/hooks';

/** Marks the first paint of a thread for the load-time benchmark (frames have their own timelines). */
function markShown(source: 'cache' | 'network'): void {
  try {
    performance.mark('crm-texting:thread-shown', {
      detail: { source, at: performance.timeOrigin + performance.now() },
    });
  } catch {
    // Marks are diagnostics only.
  }
}

/** First paint of the thread, for the benchmark and for the panel's status. */
export function useFirstPaintMark(shown: boolean, source: 'cache' | 'network'): void {
  const marked = useRef(false);
  useEffect(() => {
    if (shown && !marked.current) {
      marked.current = true;
      markShown(source);
    }
  }, [shown, source]);
}
