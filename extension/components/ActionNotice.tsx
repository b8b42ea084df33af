import type { RefObject } from 'preact';

/** The confirmation after a contact action; focusable, since the button that had the focus is gone. */
export function ActionNotice({
  notice,
  noticeRef,
}: {
  notice: string;
  noticeRef: RefObject<HTMLParagraphElement | null>;
}) {
  return (
    <p class="section notice ok" role="status" tabIndex={-1} ref={noticeRef} data-testid="action-notice">
      {notice}
    </p>
  );
}
