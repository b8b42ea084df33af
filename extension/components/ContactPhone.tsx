import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorNotice } from './ErrorNotice.tsx';

interface ContactPhoneProps {
  /** The number as the relay returned it: in full with pii.view, masked without. */
  phone: string | null;
  /** The relay masked it (the principal lacks pii.view). */
  masked: boolean;
  /** The principal may unmask it on demand (pii.reveal) and the relay can be reached. */
  canReveal: boolean;
  /** Asks the relay for the full number; the relay records the reveal. */
  reveal(signal: AbortSignal): Promise<string>;
}

/**
 * The contact's number as the rep's role allows: in full, or masked with a "Show number" button
 * when the role may reveal it. A revealed number lives in this view only: it is not saved, and
 * opening the contact again shows it masked.
 */
export function ContactPhone({ phone, masked, canReveal, reveal }: ContactPhoneProps) {
  const [revealed, setRevealed] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const shown = useRef<HTMLSpanElement>(null);
  const pending = useRef<AbortController | null>(null);
  useEffect(() => () => pending.current?.abort(), []);
  useEffect(() => {
    // The button that had the focus is gone: the number takes it, so the keyboard is not lost.
    if (revealed !== null) shown.current?.focus();
  }, [revealed]);

  if (phone === null) return <span data-testid="contact-phone">No phone number</span>;

  const onShow = async (): Promise<void> => {
    const controller = new AbortController();
    pending.current = controller;
    setBusy(true);
    setError(null);
    try {
      setRevealed(await reveal(controller.signal));
    } catch (thrown) {
      if (!controller.signal.aborted) setError(thrown);
    } finally {
      if (!controller.signal.aborted) setBusy(false);
    }
  };

  const isMasked = masked && revealed === null;
  return (
    <>
      <span data-testid="contact-phone" data-masked={isMasked} ref={shown} tabIndex={-1}>
        <span class="visually-hidden">{isMasked ? 'Phone, masked: ' : 'Phone: '}</span>
        {revealed ?? phone}
      </span>
      {isMasked && canReveal && (
        <button
          type="button"
          class="link"
          data-testid="reveal-phone"
          title="Shows the full number in this view; your organisation records each number shown"
          onClick={() => void onShow()}
          disabled={busy}
        >
          {busy ? 'Showing…' : 'Show number'}
        </button>
      )}
      {error !== null && <ErrorNotice error={error} />}
    </>
  );
}
