/**
 * Which sandbox demo contacts may be texted at an instant, by the same quiet-hours rules a send
 * is judged by: `npm start`'s banner and the sandbox CRM page name one that can be texted now and
 * say when the others' mornings come, so the quick start works at any hour without relaxing a rule.
 */
import { DEMO_CONTACTS } from '../crm-plugins/sandbox/index.ts';
import type { CrmContact } from '../crm-plugins/types.ts';
import { evaluateQuietHours } from './compliance/quiet-hours.ts';
import { resolveRecipientZones } from './compliance/recipient-zones.ts';

/** The number the sandbox network reports as undelivered: never the one to try first. */
const UNREACHABLE = '+16175550199';

export interface DemoRecipient {
  contact: CrmContact;
  phone: string;
  /** The contact's zone and wall clock, e.g. "10:14 AM" in "Europe/London". */
  zone: string;
  localTime: string;
  /** Quiet hours allow a text now. */
  textableNow: boolean;
  /** When quiet hours end, in the contact's own words ("8:00 AM their time"), or null. */
  heldUntil: Date | null;
  reason: string | null;
}

function wallClock(zone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', minute: '2-digit' }).format(at);
}

/** Every demo contact with a phone, as quiet hours see it at `now`. */
export function demoRecipients(now: Date, contacts: readonly CrmContact[] = DEMO_CONTACTS): DemoRecipient[] {
  return contacts.flatMap((contact) => {
    const phone = contact.phones[0];
    if (phone === undefined) return [];
    const zones = resolveRecipientZones({ phoneE164: phone, crmTimeZone: contact.timeZone });
    const verdict = evaluateQuietHours({ ...zones, now });
    const zone = zones.zones[0] ?? 'UTC';
    return [
      {
        contact,
        phone,
        zone,
        localTime: wallClock(zone, now),
        textableNow: verdict.allowed,
        heldUntil: verdict.allowed ? null : (verdict.nextAllowedAt ?? null),
        reason: verdict.allowed ? null : (verdict.reason ?? null),
      },
    ];
  });
}

/** How long (up to two hours, in 15-minute steps) quiet hours keep allowing texts to `contact`. */
function openAhead(contact: CrmContact, phone: string, now: Date): number {
  const zones = resolveRecipientZones({ phoneE164: phone, crmTimeZone: contact.timeZone });
  let minutes = 0;
  while (minutes < 120) {
    const next = new Date(now.getTime() + (minutes + 15) * 60_000);
    if (!evaluateQuietHours({ ...zones, now: next }).allowed) break;
    minutes += 15;
  }
  return minutes;
}

/**
 * The demo contact to text first at `now`: one quiet hours allow, reachable, a contact record,
 * and of those the one whose sending hours stay open longest, so the banner's advice still holds
 * while the newcomer copies the curl example.
 */
export function firstTextableDemoRecipient(
  now: Date,
  contacts: readonly CrmContact[] = DEMO_CONTACTS,
): DemoRecipient | null {
  const open = demoRecipients(now, contacts).filter(
    (r) => r.textableNow && r.phone !== UNREACHABLE && r.contact.ref.objectType === 'contact',
  );
  let best: DemoRecipient | null = null;
  let bestAhead = -1;
  for (const r of open) {
    const ahead = openAhead(r.contact, r.phone, now);
    if (ahead > bestAhead) {
      best = r;
      bestAhead = ahead;
    }
  }
  return best;
}

/** "8:00 AM their time (Sat 13:00 UTC)": when a held contact may be texted. */
export function describeHold(recipient: DemoRecipient): string {
  if (recipient.heldUntil === null) return 'now';
  const local = wallClock(recipient.zone, recipient.heldUntil);
  return `${local} their time`;
}
