import type { StreamState } from '../lib/event-stream.ts';
import { contactLocalTime, maskPhone } from '../lib/format.ts';
import type { ContactLookup } from '../lib/relay-types.ts';
import { ConsentBadge } from './ConsentBadge.tsx';

function liveLabel(state: StreamState | null): string {
  switch (state?.kind) {
    case 'open':
      return 'Live';
    case 'retrying':
      return 'Reconnecting…';
    case 'stopped':
      return 'Live updates off';
    default:
      return 'Connecting…';
  }
}

/** Who the rep is texting; the phone is masked because the CRM already shows it to those allowed to see it. */
export function ContactHeader({ lookup, live }: { lookup: ContactLookup; live: StreamState | null }) {
  const { contact, consent } = lookup;
  const localTime = contactLocalTime(contact.timeZone);
  return (
    <header>
      <h1 data-testid="contact-name">{contact.name}</h1>
      <div class="contact-meta">
        <span data-testid="contact-phone">
          <span class="visually-hidden">Phone, masked: </span>
          {contact.phone ? maskPhone(contact.phone) : 'No phone number'}
        </span>
        <ConsentBadge status={consent.status} updatedAt={consent.updatedAt} source={consent.source} />
        {localTime && (
          <span class="muted" title={contact.timeZone ?? ''}>
            Local time {localTime}
          </span>
        )}
        <span class="muted live" role="status">
          {liveLabel(live)}
        </span>
      </div>
    </header>
  );
}
