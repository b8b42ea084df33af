import { formatInZone, formatTimestamp } from '../lib/format.ts';
import type { Message, MessageStatus, Redaction } from '../lib/relay-types.ts';
import { MessageTime } from './MessageTime.tsx';

const STATUS: Record<MessageStatus, string> = {
  queued: 'Queued',
  sending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  undelivered: 'Not delivered',
  failed: 'Failed',
  received: 'Received',
  cancelled: 'Cancelled',
};

const REDACTED: Record<string, string> = {
  card: 'a card number',
  ssn: 'a Social Security number',
  bank: 'a bank number',
};

/** The body with the relay's redaction placeholders marked, so the rep sees what was removed and why. */
function Body({ body, redactions }: { body: string; redactions: readonly Redaction[] }) {
  const parts = [];
  let at = 0;
  for (const r of [...redactions].sort((a, b) => a.start - b.start)) {
    if (r.start < at || r.end > body.length || r.end <= r.start) continue;
    if (r.start > at) parts.push(body.slice(at, r.start));
    parts.push(
      <mark
        key={r.start}
        class="redacted"
        data-redaction={r.kind}
        title={`The customer texted ${REDACTED[r.kind] ?? 'sensitive numbers'}; it was removed before storage.`}
      >
        {body.slice(r.start, r.end)}
      </mark>,
    );
    at = r.end;
  }
  if (at < body.length) parts.push(body.slice(at));
  return <div class="bubble">{parts}</div>;
}

/**
 * One message of the thread with its delivery status, who sent it and, when it failed, why. A text
 * held for later says when it goes, in the customer's time when their zone is known.
 */
export function MessageItem({ message, zone }: { message: Message; zone: string | null }) {
  const later =
    message.status === 'queued' && message.scheduledFor
      ? zone
        ? `Scheduled for ${formatInZone(message.scheduledFor, zone)} their time`
        : `Scheduled for ${formatTimestamp(message.scheduledFor)}`
      : null;
  const failed = message.status === 'failed' || message.status === 'undelivered';
  const reason = failed ? (message.errorMessage ?? message.errorCode ?? 'No reason given') : null;
  return (
    <li
      class={`${message.direction} ${message.status}`}
      data-message-id={message.id}
      data-status={message.status}
    >
      <Body body={message.body} redactions={message.redactions} />
      <div class="meta">
        <MessageTime iso={message.createdAt} /> · {later ?? STATUS[message.status]}
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
