import { useEffect, useRef } from 'preact/hooks';
import { formatTimestamp } from '../lib/format.ts';
import type { Message } from '../lib/relay-types.ts';
import type { PendingItem } from '../lib/store/local-store.ts';
import { MessageItem } from './MessageItem.tsx';

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

/** The conversation, newest at the bottom; stays scrolled to the end when a message arrives. */
export function Thread(props: ThreadProps) {
  const { messages, pending } = props;
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
        {messages.map((m) => (
          <MessageItem key={m.id} message={m} zone={props.zone} />
        ))}
        {pending.map((p, i) => (
          <li key={p.key} class={`outbound pending ${p.state}`} data-outbox={p.state} data-outbox-key={p.key}>
            <div class="bubble">{p.body}</div>
            <div class="meta">
              {formatTimestamp(new Date(p.createdAt).toISOString())} ·{' '}
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
        ))}
      </ol>
    </div>
  );
}
