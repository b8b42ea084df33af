import { formatTimestamp } from '../lib/format.ts';
import type { Message, MessageStatus } from '../lib/relay-types.ts';

const STATUS: Record<MessageStatus, string> = {
  queued: 'Queued',
  sending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  undelivered: 'Not delivered',
  failed: 'Failed',
  received: 'Received',
};

/** One message of the thread with its delivery status and, when it failed, why. */
export function MessageItem({ message }: { message: Message }) {
  const failed = message.status === 'failed' || message.status === 'undelivered';
  const reason = failed ? (message.errorMessage ?? message.errorCode ?? 'No reason given') : null;
  return (
    <li
      class={`${message.direction} ${message.status}`}
      data-message-id={message.id}
      data-status={message.status}
    >
      <div class="bubble">{message.body}</div>
      <div class="meta">
        {formatTimestamp(message.createdAt)} · {STATUS[message.status]}
        {message.sentBy && message.direction === 'outbound' ? ` · ${message.sentBy}` : ''}
        {reason && (
          <>
            {' · '}
            <span class="failure">
              {reason}
              {message.errorCode && message.errorMessage ? ` (${message.errorCode})` : ''}
            </span>
          </>
        )}
      </div>
    </li>
  );
}
