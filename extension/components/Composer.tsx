import { useMemo, useRef, useState } from 'preact/hooks';
import { countSegments } from '../../server/compliance/segments.ts';
import type { ContactRef } from '../hosts/types.ts';
import { formatInZone } from '../lib/format.ts';
import { type RelayClient, RelayError, type SendMessageInput } from '../lib/relay/relay-client.ts';
import {
  type Message,
  type MessageTemplate,
  type Preflight,
  type SensitiveFinding,
  sensitiveFindings,
} from '../lib/relay-types.ts';
import { attemptFor, type SendAttempt } from '../lib/send-attempt.ts';
import { applyTemplate, type MergeField } from '../lib/templates.ts';
import { usePreflight } from '../lib/use-preflight.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

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
}

const UNFILLED = /\{\{\s*[A-Za-z]+\s*\}\}/g;

/** Splits the draft into plain and flagged runs, for showing the sensitive spans highlighted. */
function runs(
  text: string,
  findings: readonly SensitiveFinding[],
): { text: string; flagged: string | null }[] {
  const out: { text: string; flagged: string | null }[] = [];
  let at = 0;
  for (const f of findings) {
    if (f.start < at) continue;
    if (f.start > at) out.push({ text: text.slice(at, f.start), flagged: null });
    out.push({ text: text.slice(f.start, f.end), flagged: f.kind });
    at = f.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), flagged: null });
  return out;
}

const KIND_LABEL: Record<string, string> = {
  card: 'a card number',
  ssn: 'a Social Security number',
  bank: 'a bank number',
  phi: 'health information',
};

/**
 * The draft box: segment count, a live compliance check against the relay (quiet hours with a
 * scheduled send, sensitive spans highlighted, the exact text that will go out), templates, and
 * Ctrl/Cmd+Enter. A send whose outcome is unknown goes to the offline outbox with its key.
 */
export function Composer(props: ComposerProps) {
  const { client, contactRef, to, from, blockedReason, templates } = props;
  const [body, setBodyState] = useState(props.initialDraft);
  const [attempt, setAttempt] = useState<SendAttempt | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [chosenTemplate, setChosenTemplate] = useState('');
  const textarea = useRef<HTMLTextAreaElement>(null);
  const info = useMemo(() => countSegments(body), [body]);
  const empty = body.trim().length === 0;
  const unfilled = useMemo(() => [...new Set(body.match(UNFILLED) ?? [])], [body]);

  const setBody = (next: string): void => {
    setBodyState(next);
    props.onDraftChange(next);
    // A new draft makes the last send's notice stale; clearing the box after a send keeps it.
    if (next !== '') setNotice(null);
  };

  const contact = { crm: contactRef.crm, objectType: contactRef.objectType, id: contactRef.id };
  const baseInput = (text: string): SendMessageInput | null =>
    from ? { from, ...(to ? { to } : {}), body: text, contact } : null;
  const checkInput = !empty && blockedReason === null && info.withinLimit ? baseInput(body) : null;
  // Bumped after the relay refuses a send, so the verdict shown is asked again (the clock moved on).
  const [recheck, setRecheck] = useState(0);
  const check = usePreflight(client, checkInput, 300, recheck);
  const current: Preflight | null =
    check.result && checkInput && check.checked === JSON.stringify(checkInput) ? check.result : null;
  const refusals = current?.refusals ?? [];
  const quiet = current?.schedulable && current.nextAllowedAt ? current : null;
  const hardRefusals = refusals.filter((r) => r.code !== 'QUIET_HOURS');
  const findings = current ? sensitiveFindings(current, body.length) : [];
  const zone = current?.recipientLocalTime?.zone ?? null;
  const scheduleLabel =
    quiet?.nextAllowedAt && zone
      ? `Schedule for ${formatInZone(quiet.nextAllowedAt, zone)} their time`
      : null;

  const disabled =
    sending ||
    empty ||
    !from ||
    blockedReason !== null ||
    !info.withinLimit ||
    unfilled.length > 0 ||
    (current !== null && !current.allowed && !quiet);

  const send = async (): Promise<void> => {
    const input0 = baseInput(body);
    if (disabled || !input0) return;
    const input: SendMessageInput = quiet?.nextAllowedAt
      ? { ...input0, sendAt: quiet.nextAllowedAt }
      : input0;
    const next = attemptFor(attempt, {
      from: input.from,
      to: input.to ?? `${contact.crm}/${contact.objectType}/${contact.id}`,
      body: input.body,
      sendAt: input.sendAt,
    });
    setAttempt(next);
    setSending(true);
    setError(null);
    if (props.queueBehind) {
      // Sent directly it could overtake an earlier text that waits: it joins the queue instead.
      const refused = await props.onQueue(input, next.key, null).then(
        () => null,
        (queueError: unknown) => queueError,
      );
      setSending(false);
      if (refused !== null) {
        setError(refused);
        return;
      }
      setBody('');
      setAttempt(null);
      setNotice('Queued behind an earlier text to this contact that is still waiting to go out.');
      return;
    }
    try {
      const message = await client.sendMessage(input, next.key);
      setBody('');
      setAttempt(null);
      if (input.sendAt && scheduleLabel)
        setNotice(`Scheduled: ${scheduleLabel.replace(/^Schedule for /, '')}.`);
      props.onSent(message);
    } catch (err) {
      if (err instanceof RelayError && err.outcomeUnknown) {
        // The relay may or may not have it: the outbox retries with the same key, so it goes out once.
        // Without a working outbox the draft and its key stay here, and Retry reuses the key.
        const refused = await props.onQueue(input, next.key, err).then(
          () => null,
          (queueError: unknown) => queueError ?? err,
        );
        if (refused !== null) {
          setError(refused);
          return;
        }
        setBody('');
        setAttempt(null);
        setNotice(
          err.status === 0
            ? 'No connection to the relay. The message is waiting and goes out when the connection returns.'
            : 'The relay had a problem. The message is waiting and will be retried.',
        );
      } else {
        setError(err);
        // A definite refusal means nothing was accepted, so the next try is a new request.
        if (err instanceof RelayError) {
          setAttempt(null);
          setRecheck((n) => n + 1);
          props.onRefused(err);
        }
      }
    } finally {
      setSending(false);
    }
  };

  const insertTemplate = (id: string): void => {
    const template = templates.find((t) => t.id === id);
    if (!template) return;
    const { text } = applyTemplate(template.body, props.mergeValues);
    const el = textarea.current;
    let next: string;
    if (el && body.length > 0) {
      const start = el.selectionStart ?? body.length;
      const end = el.selectionEnd ?? body.length;
      next = body.slice(0, start) + text + body.slice(end);
    } else next = text;
    setBody(next);
    el?.focus();
  };

  const removeFlagged = (): void => {
    let next = body;
    for (const f of [...findings].sort((a, b) => b.start - a.start)) {
      next = next.slice(0, f.start) + next.slice(f.end);
    }
    setBody(next.replace(/ {2,}/g, ' '));
    textarea.current?.focus();
  };

  const counter = empty
    ? `0 segments · ${info.encoding}`
    : `${info.segments} segment${info.segments === 1 ? '' : 's'} · ${info.encoding} · ${info.remainingInSegment} left`;

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
      {notice && (
        <p class="notice info" role="status" data-testid="composer-notice">
          {notice}
        </p>
      )}
      {templates.length > 0 && blockedReason === null && (
        <div class="composer-row">
          <label for="template" class="inline-label">
            Template
          </label>
          {/* Choosing with the arrow keys must not insert each template it passes: a button inserts. */}
          <select
            id="template"
            value={chosenTemplate}
            onChange={(e) => setChosenTemplate(e.currentTarget.value)}
          >
            <option value="">Choose a template…</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={chosenTemplate === ''}
            onClick={() => {
              insertTemplate(chosenTemplate);
              setChosenTemplate('');
            }}
          >
            Insert
          </button>
        </div>
      )}
      <div>
        <label for="draft">Message</label>
        <textarea
          id="draft"
          ref={textarea}
          value={body}
          rows={3}
          disabled={blockedReason !== null}
          aria-invalid={findings.length > 0 || unfilled.length > 0}
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
      <div id="preflight" aria-live="polite" class="preflight" data-testid="preflight">
        {unfilled.length > 0 && (
          <p class="notice warn" data-testid="unfilled-fields">
            Fill in {unfilled.join(', ')} before sending: the CRM has no value for{' '}
            {unfilled.length === 1 ? 'it' : 'them'}.
          </p>
        )}
        {findings.length > 0 && (
          <div class="notice error" data-testid="sensitive-block">
            <strong>
              Blocked: the text contains{' '}
              {[...new Set(findings.map((f) => KIND_LABEL[f.kind] ?? f.kind))].join(', ')}
            </strong>
            <p class="flagged-text">
              {runs(body, findings).map((r, i) =>
                r.flagged ? (
                  <mark key={i} data-testid="sensitive-span" data-kind={r.flagged}>
                    {r.text}
                  </mark>
                ) : (
                  <span key={i}>{r.text}</span>
                ),
              )}
            </p>
            <p>
              {findings.some((f) => f.kind !== 'phi')
                ? 'Never text card, bank or Social Security numbers; send a secure payment link or call instead.'
                : 'Health information may not be texted; call the customer or use the secure portal.'}
            </p>
            <button type="button" onClick={removeFlagged}>
              Remove the highlighted text
            </button>
          </div>
        )}
        {hardRefusals
          // Spans already explain a sensitive-content refusal; without usable spans its message does.
          .filter((r) => r.code !== 'SENSITIVE_CONTENT' || findings.length === 0)
          .map((r) => (
            <p key={r.code} class="notice warn" data-refusal={r.code}>
              {r.message}
              {r.code === 'NO_CONSENT' && props.onRecordConsent && (
                <>
                  {' '}
                  <button type="button" class="link" onClick={props.onRecordConsent}>
                    Record consent…
                  </button>
                </>
              )}
            </p>
          ))}
        {quiet && hardRefusals.length === 0 && (
          <p class="notice warn" data-refusal="QUIET_HOURS" data-testid="quiet-hours">
            {current?.recipientLocalTime
              ? `It is ${formatInZone(new Date().toISOString(), current.recipientLocalTime.zone)} for this contact (${current.recipientLocalTime.zone}). `
              : ''}
            Texts may not go out at this hour; schedule it and it leaves at{' '}
            {quiet.nextAllowedAt && zone ? formatInZone(quiet.nextAllowedAt, zone) : 'the first allowed time'}{' '}
            their time.
          </p>
        )}
        {current && current.finalText !== body && hardRefusals.length === 0 && (
          <div class="final-text" data-testid="final-text">
            <span class="muted">
              Will be sent as ({current.segments} segment{current.segments === 1 ? '' : 's'}):
            </span>
            <p>{current.finalText}</p>
          </div>
        )}
        {check.error !== null && !empty && (
          <p class="muted small">
            Could not check this draft with the relay; it is checked again when you send.
          </p>
        )}
      </div>
      <div class="composer-row">
        <span id="segment-count" class={`counter${info.withinLimit ? '' : ' over'}`} aria-live="polite">
          {info.withinLimit ? counter : `Too long for one text (${info.units} ${info.encoding} units)`}
          {info.nonGsmCharacters.length > 0 &&
            ` · UCS-2 because of ${info.nonGsmCharacters.slice(0, 3).join(' ')}`}
        </span>
        <button type="submit" class="primary" disabled={disabled} data-testid="send">
          {sending
            ? 'Sending…'
            : scheduleLabel && hardRefusals.length === 0
              ? scheduleLabel
              : attempt
                ? 'Retry'
                : 'Send'}
        </button>
      </div>
      <span id="send-hint" class="visually-hidden">
        Press Control or Command plus Enter to send.
      </span>
    </form>
  );
}
