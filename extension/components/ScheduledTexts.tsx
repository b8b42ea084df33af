import { useState } from 'preact/hooks';
import type { ScheduledTexts as ScheduledTextsState } from '../hooks/use-scheduled-texts.ts';
import { formatInZone, formatTimestamp } from '../lib/format.ts';
import type { Message } from '../lib/relay-types.ts';

/** An instant as the value of a `datetime-local` field: the rep's own wall clock, to the minute. */
function localInputValue(iso: string): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** When a scheduled text goes: in the customer's time when their zone is known. */
function goesAt(scheduledFor: string, zone: string | null): string {
  return zone ? `${formatInZone(scheduledFor, zone)} their time` : formatTimestamp(scheduledFor);
}

function ScheduledItem({
  message,
  zone,
  state,
  canChange,
}: {
  message: Message;
  zone: string | null;
  state: ScheduledTextsState;
  canChange: boolean;
}) {
  const [moving, setMoving] = useState(false);
  const [value, setValue] = useState(() => localInputValue(message.scheduledFor ?? ''));
  const busy = state.busy === message.id;
  const error = state.error?.messageId === message.id ? state.error.message : null;
  const at = new Date(value);
  return (
    <li data-testid="scheduled-text" data-message-id={message.id}>
      <div class="scheduled-body">{message.body}</div>
      <div class="meta" data-testid="scheduled-at">
        Goes at {goesAt(message.scheduledFor ?? '', zone)}
      </div>
      {!canChange ? (
        <div class="meta" data-testid="scheduled-by">
          Scheduled by {message.sentBy ?? 'an integration'}: only they or a manager can change it.
        </div>
      ) : moving ? (
        <form
          class="scheduled-move"
          onSubmit={(event) => {
            event.preventDefault();
            if (Number.isNaN(at.getTime())) return;
            state.move(message.id, at.toISOString());
            setMoving(false);
          }}
        >
          <label>
            New time (your time)
            <input
              type="datetime-local"
              value={value}
              onInput={(event) => setValue(event.currentTarget.value)}
              required
            />
          </label>
          <button type="submit" class="primary" disabled={busy || Number.isNaN(at.getTime())}>
            Move
          </button>
          <button type="button" class="link" onClick={() => setMoving(false)}>
            Keep the time
          </button>
        </form>
      ) : (
        <div class="scheduled-actions">
          <button type="button" disabled={busy} onClick={() => setMoving(true)}>
            Send at another time
          </button>
          <button type="button" disabled={busy} onClick={() => state.cancel(message.id)}>
            Cancel text
          </button>
        </div>
      )}
      {error && (
        <p class="notice error" role="alert" data-testid="scheduled-error">
          {error}
        </p>
      )}
    </li>
  );
}

/**
 * The texts of this thread waiting for a later time (scheduled, or held for the customer's
 * morning), each with cancel and "send at another time"; a new time meets every rule again.
 */
export function ScheduledTexts({
  state,
  zone,
  canChange,
}: {
  state: ScheduledTextsState;
  zone: string | null;
  /** Whether this rep may change a text (the relay's rule: its sender, or a role with messages.manage). */
  canChange: (message: Message) => boolean;
}) {
  if (state.scheduled.length === 0) return null;
  return (
    <section class="section scheduled-texts" aria-label="Scheduled texts" data-testid="scheduled-texts">
      <h2>Scheduled texts</h2>
      <ul>
        {state.scheduled.map((message) => (
          <ScheduledItem
            key={message.id}
            message={message}
            zone={zone}
            state={state}
            canChange={canChange(message)}
          />
        ))}
      </ul>
    </section>
  );
}
