/**
 * The pure part of a send's compliance check (#20 item 1), as `checkOutbound` runs it after its
 * one database read: the number's E.164 check, the zones of its area code with the CRM's time
 * zone applied, and `decideOutbound` (consent, content scan, first-contact notice, frequency cap,
 * quiet hours) on a realistic body. The clock advances one millisecond per decision, as it would
 * at 1,000 sends a second, and recipients rotate over area codes in several zones.
 */
import { deriveConsent } from '../../server/compliance/consent.ts';
import { decideOutbound } from '../../server/compliance/decide.ts';
import { parseOrgSettings } from '../../server/compliance/org-settings.ts';
import { preferCrmTimeZone, resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';
import { checkE164 } from '../../server/phone.ts';

const BODY =
  'Hi Dana, this is Maria from Acme Roofing. Your inspection is confirmed for Tuesday 3:30 pm at ' +
  '1422 Oak St. Call me at 202-555-0143 if anything changes. Reply STOP to opt out.';

/** Area codes across the continental zones, Hawaii and Newfoundland, plus CRM zones now and then. */
const RECIPIENTS: ReadonlyArray<{ phone: string; crmTimeZone: string | null }> = [
  '+12025550143',
  '+13125550199',
  '+14155550123',
  '+13055550111',
  '+18085550100',
  '+17095550144',
  '+16025550188',
  '+17185550177',
].flatMap((phone, i) => [
  { phone, crmTimeZone: null },
  { phone: `${phone.slice(0, -4)}${String(1000 + i * 37).padStart(4, '0')}`, crmTimeZone: null },
  { phone, crmTimeZone: i % 2 === 0 ? 'America/Chicago' : null },
]);

const SETTINGS = parseOrgSettings('Acme Roofing', {});
const CONSENT = deriveConsent([
  { kind: 'opt_in', source: 'web_form', occurredAt: new Date('2026-06-01T12:00:00Z') },
]);

/** One send's decision at `now`; returns a number so the work cannot be optimised away. */
function decideOne(i: number, now: Date): number {
  const recipient = RECIPIENTS[i % RECIPIENTS.length] as (typeof RECIPIENTS)[number];
  const check = checkE164(recipient.phone);
  if (!check.ok) throw new Error(`bench recipient ${recipient.phone} ${check.reason}`);
  const regional = resolveRecipientZones({ phoneE164: check.e164 });
  const decision = decideOutbound({
    text: BODY,
    recipient: {
      phone: check.e164,
      crmTimeZone: recipient.crmTimeZone,
      zones: preferCrmTimeZone(regional, recipient.crmTimeZone),
    },
    consent: CONSENT,
    pause: null,
    settings: SETTINGS,
    lastMessageAt: new Date(now.getTime() - 3_600_000),
    lastInboundAt: null,
    sentInLast24h: 0,
    now,
  });
  return decision.refusals.length + decision.segments;
}

/**
 * Decisions per second over about `ms` milliseconds, starting on a weekday afternoon in the US
 * (allowed in most zones, refused in a few, so both answers are measured).
 */
export function decisionsPerSecond(ms: number, start = Date.parse('2026-12-08T20:00:00Z')): number {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += decideOne(i, new Date(start + i)); // warm-up
  let count = 0;
  const begin = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let j = 0; j < 200; j++, count++) sink += decideOne(count, new Date(start + 2000 + count));
    elapsed = performance.now() - begin;
  }
  if (sink < 0) throw new Error('unreachable');
  return (count / elapsed) * 1000;
}
