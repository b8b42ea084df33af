import { Fragment } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../lib/relay-types.ts';
import type { PendingItem } from '../lib/store/local-store.ts';
import { dayBreaks, readerCalendar } from '../lib/thread-days.ts';
import { MessageItem } from './MessageItem.tsx';
import { MessageTime } from './MessageTime.tsx';

interface ThreadProps {
  messages: readonly Message[];
  pending: readonly PendingItem[];
  /** The customer's time zone, for when scheduled texts go; null when unknown. */
  zone: string | null;
  /** Where the messages shown came from: the local cache (instant) or the relay. */
  source: 'cache' | 'network';
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder(): void;
  onDiscard(key: string): void;
  onRetry(key: string): void;
}

const PENDING_LABEL: Record<PendingItem['state'], string> = {
  waiting: 'Waiting for connection',
  sending: 'Sending…',
  failed: 'Not sent',
};

/** Where a new local day starts, the day's name ("Today", "Yesterday", a date). */
function DaySeparator({ label }: { label: string | null }) {
  if (label === null) return null;
  return (
    <li class="day-separator" data-testid="day-separator">
      <span>{label}</span>
    </li>
  );
}

/**
 * The conversation, newest at the bottom, a day separator wherever the reader's local day changes;
 * stays scrolled to the end when a message arrives.
 */
export function Thread(props: ThreadProps) {
  const { messages, pending } = props;
  const breaks = dayBreaks(
    [...messages.map((m) => m.createdAt), ...pending.map((p) => new Date(p.createdAt).toISOString())],
    readerCalendar(),
  );
  const pendingBreak = (i: number): string | null => breaks[messages.length + i] ?? null;
  const list = useRef<HTMLDivElement>(null);
  const newest = `${messages[messages.length - 1]?.id}/${pending.length}`;
  // The outbox keeps a contact's texts in order: those after a refused one wait for the rep's decision.
  const failedAt = pending.findIndex((p) => p.state === 'failed');
  const firstFailed = failedAt === -1 ? Number.POSITIVE_INFINITY : failedAt;
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newest]);

  return (
    // role=log makes screen readers announce arriving messages politely.
    <div
      class="thread"
      ref={list}
      role="log"
      aria-label="Conversation"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable to scroll it by keyboard.
      tabIndex={0}
      data-testid="thread"
      data-source={props.source}
    >
      <ol>
        {props.hasOlder && (
          <li class="older">
            <button type="button" onClick={props.onLoadOlder} disabled={props.loadingOlder}>
              {props.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          </li>
        )}
        {messages.length === 0 && pending.length === 0 && <li class="muted">No messages yet.</li>}
        {messages.map((m, i) => (
          <Fragment key={m.id}>
            <DaySeparator label={breaks[i] ?? null} />
            <MessageItem message={m} zone={props.zone} />
          </Fragment>
        ))}
        {pending.map((p, i) => (
          <Fragment key={p.key}>
            <DaySeparator label={pendingBreak(i)} />
            <li class={`outbound pending ${p.state}`} data-outbox={p.state} data-outbox-key={p.key}>
              <div class="bubble">{p.body}</div>
              <div class="meta">
                <MessageTime iso={new Date(p.createdAt).toISOString()} /> ·{' '}
                {p.state === 'waiting' && i > firstFailed
                  ? 'Held behind a text that was not sent'
                  : PENDING_LABEL[p.state]}
                {p.error && (
                  <>
                    {' · '}
                    <span class="failure">
                      {p.error.message} ({p.error.code})
                    </span>
                  </>
                )}
                {p.state !== 'sending' && (
                  <span class="pending-actions">
                    <button type="button" class="link" onClick={() => props.onRetry(p.key)}>
                      {p.state === 'failed' ? 'Try again' : 'Retry now'}
                    </button>
                    <button type="button" class="link" onClick={() => props.onDiscard(p.key)}>
                      Discard
                    </button>
                  </span>
                )}
              </div>
            </li>
          </Fragment>
        ))}
      </ol>
    </div>
  );
}
