import { useEffect, useState } from 'preact/hooks';
import { contactLocalTime } from '../lib/format.ts';
import { sendToBackground } from '../lib/messages/background-requests.ts';
import type { StreamState } from '../lib/relay/event-stream.ts';
import type { ContactLookup } from '../lib/relay-types.ts';
import { ConsentBadge } from './ConsentBadge.tsx';
import { ContactPhone } from './ContactPhone.tsx';

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

/** The minute, re-rendered when it changes, so the customer's clock in the header stays right. */
function useMinute(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const tick = (): void => {
      const next = new Date();
      setNow(next);
      timer = setTimeout(tick, 60_000 - (next.getTime() % 60_000) + 50);
    };
    timer = setTimeout(tick, 60_000 - (Date.now() % 60_000) + 50);
    return () => clearTimeout(timer);
  }, []);
  return now;
}

/**
 * Who the rep is texting: name, phone as the rep's role allows (with "Show number" where the role
 * may reveal it), consent with its evidence, and the customer's local time as quiet hours see it
 * (the CRM's time zone, else the number's area code).
 */
export function ContactHeader({
  lookup,
  live,
  offline,
  phoneAccess,
}: {
  lookup: ContactLookup;
  live: StreamState | null;
  /** Showing the cached copy because the relay cannot be reached. */
  offline: boolean;
  /** What the signed-in principal may see of numbers, and how to reveal this contact's. */
  phoneAccess: { masked: boolean; canReveal: boolean; reveal(signal: AbortSignal): Promise<string> };
}) {
  const { contact, consent } = lookup;
  const now = useMinute();
  const zone = contact.localTime?.zone ?? contact.timeZone;
  const localTime = contactLocalTime(zone, now);
  return (
    <header>
      <h1 data-testid="contact-name">{contact.name}</h1>
      <div class="contact-meta">
        <ContactPhone
          // A number revealed for one contact is not shown for the next one the rep opens.
          key={`${contact.crm}/${contact.objectType}/${contact.id}`}
          phone={contact.phone}
          masked={phoneAccess.masked}
          canReveal={phoneAccess.canReveal && !offline}
          reveal={phoneAccess.reveal}
        />
        <ConsentBadge consent={consent} />
        {localTime && (
          <span
            class="muted"
            data-testid="local-time"
            title={`${zone}${contact.localTime ? ` (from ${contact.localTime.source.replace(/_/g, ' ')})` : ''}`}
          >
            Their time {localTime}
          </span>
        )}
        <span class="muted live" role="status">
          {offline ? 'Offline: showing saved copy' : liveLabel(live)}
        </span>
        <button
          type="button"
          class="link inbox-link"
          title="Every conversation waiting for you, in a tab"
          onClick={() => {
            // best effort: the toolbar button opens the inbox too
            sendToBackground({ type: 'open-inbox' }).catch(() => undefined);
          }}
        >
          Inbox
        </button>
      </div>
    </header>
  );
}
