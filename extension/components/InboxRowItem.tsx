import { formatTimestamp } from '../lib/format.ts';
import type { InboxConsent, InboxRow } from '../lib/inbox-types.ts';

const CONSENT: Record<InboxConsent, string> = {
  opted_in: 'Opted in',
  opted_out: 'Opted out',
  unknown: 'Consent unknown',
};
const CRM_NAMES: Record<string, string> = {
  hubspot: 'HubSpot',
  salesforce: 'Salesforce',
  sandbox: 'the sandbox CRM',
};

/**
 * One conversation of the inbox: who (the CRM's name, else the number as the rep may see it), the
 * last text and its time, consent and owner. The row itself opens the contact's CRM record; a row
 * already read can be marked unread; a number with no record offers to find or create one.
 */
export function InboxRowItem({
  row,
  onOpen,
  onMarkUnread,
}: {
  row: InboxRow;
  onOpen(url: string): void;
  onMarkUnread(): void;
}) {
  const who = row.contact?.name ?? row.contactPhone;
  const record = row.contact?.recordUrl ?? null;
  const last = row.lastMessage;
  return (
    <li
      class={`inbox-row${row.unread ? ' unread' : ''}`}
      data-conversation-id={row.conversationId}
      data-unread={String(row.unread)}
    >
      <button
        type="button"
        class="open"
        disabled={record === null}
        aria-label={`${row.unread ? 'Unread: ' : ''}${who}${record === null ? ' (no CRM record to open)' : ''}`}
        onClick={() => record !== null && onOpen(record)}
      >
        <span class="line">
          {row.unread && <span class="dot" aria-hidden="true" />}
          <span class="who" data-testid="inbox-who">
            {who}
          </span>
          {last && (
            <time class="when" dateTime={last.at}>
              {formatTimestamp(last.at)}
            </time>
          )}
        </span>
        <span class="last">
          {last === null ? 'No texts yet' : `${last.direction === 'outbound' ? 'You: ' : ''}${last.body}`}
        </span>
        <span class="meta">
          <span class={`badge ${row.consent}`} data-consent={row.consent}>
            {CONSENT[row.consent]}
          </span>
          <span class="owner">{row.assignee ? `Owner: ${row.assignee.name ?? 'a rep'}` : 'Unassigned'}</span>
        </span>
      </button>
      <span class="actions">
        {!row.unread && (
          <button type="button" class="link" onClick={onMarkUnread} aria-label={`Mark ${who} unread`}>
            Mark unread
          </button>
        )}
        {record === null && row.findInCrm && (
          <a href={row.findInCrm.url} target="_blank" rel="noopener noreferrer">
            Find or create in {CRM_NAMES[row.findInCrm.crm] ?? 'the CRM'}
          </a>
        )}
      </span>
    </li>
  );
}
