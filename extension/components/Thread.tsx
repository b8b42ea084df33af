import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../lib/relay-types.ts';
import { MessageItem } from './MessageItem.tsx';

interface ThreadProps {
  messages: readonly Message[];
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder(): void;
}

/** The conversation, newest at the bottom; stays scrolled to the end when a message arrives. */
export function Thread({ messages, hasOlder, loadingOlder, onLoadOlder }: ThreadProps) {
  const list = useRef<HTMLDivElement>(null);
  const newest = messages[messages.length - 1]?.id;
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newest]);

  return (
    // role=log makes screen readers announce arriving messages politely.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable to scroll it by keyboard.
    <div class="thread" ref={list} role="log" aria-label="Conversation" tabIndex={0}>
      <ol>
        {hasOlder && (
          <li class="older">
            <button type="button" onClick={onLoadOlder} disabled={loadingOlder}>
              {loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          </li>
        )}
        {messages.length === 0 && <li class="muted">No messages yet.</li>}
        {messages.map((m) => (
          <MessageItem key={m.id} message={m} />
        ))}
      </ol>
    </div>
  );
}
