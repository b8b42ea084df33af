import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ContactLoad } from './use-contact-load.ts';

/** Which contact action form is open. */
export type OpenAction = 'none' | 'escalate' | 'opt-in' | 'payment';

/** The contact actions' open form and the confirmation shown after one. */
export interface ContactActionsState {
  open: OpenAction;
  setOpen(open: OpenAction): void;
  notice: string | null;
  noticeRef: RefObject<HTMLParagraphElement | null>;
  /** An opt-in was recorded: said here, not in the form, which goes away once the contact is opted in. */
  consentRecorded(result: { pendingConfirmation: boolean }): void;
  /** A payment request was texted: the form closes and says so. */
  paymentRequested(amountText: string): void;
}

export function useContactActions(
  contact: Pick<ContactLoad, 'reload' | 'updateConsent'>,
): ContactActionsState {
  const [open, setOpen] = useState<OpenAction>('none');
  const [notice, setNotice] = useState<string | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  // Focus moves to the confirmation once, when it appears (the button that was focused is gone).
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  const consentRecorded = (result: { pendingConfirmation: boolean }): void => {
    setOpen('none');
    setNotice(
      result.pendingConfirmation
        ? 'Opt-in recorded. The customer was texted to confirm with YES; texting opens when they do.'
        : 'Opt-in recorded: the contact is opted in.',
    );
    if (result.pendingConfirmation) {
      contact.updateConsent({ pendingOptIn: { source: 'verbal', requestedAt: new Date().toISOString() } });
    } else contact.reload();
  };
  const paymentRequested = (amountText: string): void => {
    setOpen('none');
    setNotice(`Payment request for ${amountText} sent. Its status shows under Payment requests.`);
  };
  return { open, setOpen, notice, noticeRef, consentRecorded, paymentRequested };
}
