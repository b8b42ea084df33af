import { useMemo, useState } from 'preact/hooks';
import { countSegments } from '../../server/compliance/segments.ts';
import type { ContactRef } from '../hosts/types.ts';
import { attemptFor, type SendAttempt } from '../lib/draft.ts';
import { type RelayClient, RelayError } from '../lib/relay-client.ts';
import type { Message } from '../lib/relay-types.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

interface ComposerProps {
  client: RelayClient;
  contactRef: ContactRef;
  to: string;
  from: string | null;
  /** Why sending is impossible right now (opted out, no sender number…), shown instead of the button's effect. */
  blockedReason: string | null;
  onSent(message: Message): void;
  onRefused(error: RelayError): void;
}

/** The draft box: live segment count, Ctrl/Cmd+Enter to send, and retries that cannot double-send. */
export function Composer({ client, contactRef, to, from, blockedReason, onSent, onRefused }: ComposerProps) {
  const [body, setBody] = useState('');
  const [attempt, setAttempt] = useState<SendAttempt | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const info = useMemo(() => countSegments(body), [body]);
  const empty = body.trim().length === 0;
  const disabled = sending || empty || !from || blockedReason !== null || !info.withinLimit;

  const send = async (): Promise<void> => {
    if (disabled || !from) return;
    const current = attemptFor(attempt, { from, to, body });
    setAttempt(current);
    setSending(true);
    setError(null);
    try {
      const message = await client.sendMessage(
        {
          from,
          to,
          body,
          contact: { crm: contactRef.crm, objectType: contactRef.objectType, id: contactRef.id },
        },
        current.key,
      );
      setBody('');
      setAttempt(null);
      onSent(message);
    } catch (err) {
      setError(err);
      if (err instanceof RelayError) {
        // A definite refusal (4xx) means nothing was accepted, so the next try is a new request; when the
        // outcome is unknown the same key is kept so the relay can deduplicate the retry.
        if (!err.outcomeUnknown) {
          setAttempt(null);
          onRefused(err);
        }
      }
    } finally {
      setSending(false);
    }
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
        <p class="notice warn" data-testid="blocked-reason">
          {blockedReason}
        </p>
      )}
      {error !== null && <ErrorNotice error={error} />}
      <div>
        <label for="draft">Message</label>
        <textarea
          id="draft"
          value={body}
          rows={3}
          aria-describedby="segment-count send-hint"
          onInput={(e) => setBody(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
      </div>
      <div class="composer-row">
        <span id="segment-count" class={`counter${info.withinLimit ? '' : ' over'}`} aria-live="polite">
          {info.withinLimit ? counter : `Too long for one text (${info.units} ${info.encoding} units)`}
          {info.nonGsmCharacters.length > 0 &&
            ` · UCS-2 because of ${info.nonGsmCharacters.slice(0, 3).join(' ')}`}
        </span>
        <button type="submit" class="primary" disabled={disabled}>
          {sending ? 'Sending…' : attempt ? 'Retry' : 'Send'}
        </button>
      </div>
      <span id="send-hint" class="visually-hidden">
        Press Control or Command plus Enter to send.
      </span>
    </form>
  );
}
