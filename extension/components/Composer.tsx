import { lengthAgainstLimit } from '../../server/compliance/segments.ts';
import { useComposerDraft } from '../hooks/use-composer-draft.ts';
import { type AnsweredQuestion, useComposerSend } from '../hooks/use-composer-send.ts';
import { type DraftCheck, useDraftCheck } from '../hooks/use-draft-check.ts';
import { useDraftEdits } from '../hooks/use-draft-edits.ts';
import type { ContactRef } from '../hosts/types.ts';
import type { RelayClient, RelayError, SendMessageInput } from '../lib/relay/relay-client.ts';
import type { Message, MessageTemplate } from '../lib/relay-types.ts';
import type { MergeField } from '../lib/templates.ts';
import { ErrorNotice } from './ErrorNotice.tsx';
import { PreflightNotices } from './PreflightNotices.tsx';
import { TemplatePicker } from './TemplatePicker.tsx';

interface ComposerProps {
  client: RelayClient;
  contactRef: ContactRef;
  /** The contact's number, or null when the rep only sees it masked (the relay resolves it from the CRM). */
  to: string | null;
  from: string | null;
  /** Why sending is impossible right now (opted out, no sender number…), shown instead of the button's effect. */
  blockedReason: string | null;
  templates: readonly MessageTemplate[];
  mergeValues: Record<MergeField, string>;
  /** The draft as it was left (restored from the local store). */
  initialDraft: string;
  onDraftChange(body: string): void;
  onSent(message: Message): void;
  onRefused(error: RelayError): void;
  /** The relay could not be reached (or its answer was lost): keep the text to send when it is back. */
  onQueue(input: SendMessageInput, idempotencyKey: string, error: RelayError | null): Promise<void>;
  /**
   * Earlier texts to this contact still wait in the outbox: a new one goes behind them, so the
   * customer reads them in the order they were written.
   */
  queueBehind: boolean;
  /** The rep asked to record consent (offered when the relay refuses for lack of it). */
  onRecordConsent?: (() => void) | undefined;
  /** How many times the rep moved or cancelled a scheduled text: each makes a "Scheduled:" notice stale. */
  scheduleChanges?: number;
}

/** The segment count, or why the text is too long, and the characters that forced UCS-2. */
function segmentCounter({ info, empty }: DraftCheck): string {
  const counter = empty
    ? `0 segments · ${info.encoding}`
    : `${info.segments} segment${info.segments === 1 ? '' : 's'} · ${info.encoding} · ${info.remainingInSegment} left`;
  return (
    (info.withinLimit ? counter : `Too long: ${lengthAgainstLimit(info)}`) +
    (info.nonGsmCharacters.length > 0
      ? ` · UCS-2 because of ${info.nonGsmCharacters.slice(0, 3).join(' ')}`
      : '')
  );
}

/** The send button says what it does: sending, scheduling for the contact's morning, retrying, sending. */
function sendLabel({ scheduleLabel, hardRefusals }: DraftCheck, sending: boolean, retry: boolean): string {
  if (sending) return 'Sending…';
  if (scheduleLabel && hardRefusals.length === 0) return scheduleLabel;
  return retry ? 'Retry' : 'Send';
}

/** "Rita answered this customer 12 seconds ago. Send yours as well?" with the two choices. */
function AnsweredNotice({ answered }: { answered: AnsweredQuestion }) {
  return (
    <div class="notice warn" role="alert" data-testid="already-answered">
      <p>{answered.message} Send yours as well?</p>
      <button type="button" class="primary" onClick={() => void answered.confirm()}>
        Send anyway
      </button>{' '}
      <button type="button" onClick={answered.dismiss}>
        Don’t send
      </button>
    </div>
  );
}

/**
 * The draft box: segment count, a live compliance check against the relay (quiet hours with a
 * scheduled send, sensitive spans highlighted, the exact text that will go out), templates, and
 * Ctrl/Cmd+Enter. A send whose outcome is unknown goes to the offline outbox with its key.
 */
export function Composer(props: ComposerProps) {
  const { client, blockedReason, templates } = props;
  const draft = useComposerDraft(props.initialDraft, props.onDraftChange, props.scheduleChanges);
  const { body, setBody, notice } = draft;
  const check = useDraftCheck(client, body, props);
  const { attempt, sending, error, disabled, answered, send } = useComposerSend(client, draft, check, props);
  const { textarea, insertTemplate, removeFlagged } = useDraftEdits(draft, check, props.mergeValues);

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {blockedReason && (
        <p class="notice warn" data-testid="blocked-reason" role="status">
          {blockedReason}
        </p>
      )}
      {error !== null && <ErrorNotice error={error} />}
      {answered !== null && <AnsweredNotice answered={answered} />}
      {notice && (
        <p class="notice info" role="status" data-testid="composer-notice">
          {notice}
        </p>
      )}
      {templates.length > 0 && blockedReason === null && (
        <TemplatePicker templates={templates} onInsert={insertTemplate} />
      )}
      <div>
        <label for="draft">Message</label>
        <textarea
          id="draft"
          ref={textarea}
          value={body}
          rows={3}
          disabled={blockedReason !== null}
          aria-invalid={check.findings.length > 0 || check.unfilled.length > 0}
          aria-describedby="segment-count send-hint preflight"
          onInput={(e) => setBody(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
      </div>
      <PreflightNotices
        body={body}
        check={check}
        onRemoveFlagged={removeFlagged}
        onRecordConsent={props.onRecordConsent}
      />
      <div class="composer-row">
        <span id="segment-count" class={`counter${check.info.withinLimit ? '' : ' over'}`} aria-live="polite">
          {segmentCounter(check)}
        </span>
        <button type="submit" class="primary" disabled={disabled} data-testid="send">
          {/* Waiting on "Send anyway" is a question, not a failure to retry. */}
          {sendLabel(check, sending, attempt !== null && answered === null)}
        </button>
      </div>
      <span id="send-hint" class="visually-hidden">
        Press Control or Command plus Enter to send.
      </span>
    </form>
  );
}
