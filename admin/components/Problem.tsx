import type { ComponentChildren } from 'preact';
import type { ApiProblem } from '../lib/api.ts';
import type { Loaded } from '../lib/use-load.ts';

/** What went wrong, in the relay's words, with its stable code for a support ticket. */
export function Problem({ problem, retry }: { problem: ApiProblem; retry?: () => void }) {
  return (
    <div class="problem" role="alert">
      <p>{problem.message}</p>
      <p class="code">
        Code: <code>{problem.code}</code>
      </p>
      {retry !== undefined && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Progress of something the relay is doing for the admin. */
export function Busy({ label }: { label: string }) {
  return (
    <p class="busy" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** What the last action did, read out by screen readers as it changes. */
export function Said({ text }: { text: string | null }) {
  if (text === null) return null;
  return (
    <p class="notice" role="status">
      {text}
    </p>
  );
}

/** A section's answer from the relay: progress while it loads, the problem with a retry, or the content. */
export function Shown<T>({
  loaded,
  busy,
  retry,
  children,
}: {
  loaded: Loaded<T>;
  busy: string;
  retry: () => void;
  children: (value: T) => ComponentChildren;
}) {
  if (loaded.state === 'loading') return <Busy label={busy} />;
  if (loaded.state === 'failed') return <Problem problem={loaded.problem} retry={retry} />;
  return <>{children(loaded.value)}</>;
}
