/**
 * Every decision about one outbound conversation text, in one pure function (#4). The send
 * endpoint and the preflight endpoint call it with the same facts, so a preflight that says
 * "allowed" and a send that refuses (or the reverse) cannot happen except through a change of
 * facts between the two calls. Checks are not short-circuited: the composer shows every reason.
 */
import type { DerivedConsent } from './consent.ts';
import { scanText } from './content-scanner.ts';
import { applyFirstContactNotice } from './first-contact.ts';
import type { OrgComplianceSettings } from './org-settings.ts';
import {
  evaluateFrequencyCap,
  evaluateQuietHours,
  type RecipientZones,
  resolveRecipientZones,
} from './quiet-hours.ts';
import type { SmsEncoding } from './segments.ts';

export type RefusalCode =
  | 'OPTED_OUT'
  | 'NO_CONSENT'
  | 'PAUSED_FOR_REVIEW'
  | 'SENSITIVE_CONTENT'
  | 'BODY_TOO_LONG'
  | 'FREQUENCY_CAP'
  | 'QUIET_HOURS'
  | 'UNKNOWN_TIME_ZONE';

export interface Refusal {
  code: RefusalCode;
  message: string;
  details: Record<string, unknown>;
}

export interface OutboundDecisionFacts {
  /** The text as the rep wrote it. */
  text: string;
  recipient: { phone: string; crmTimeZone?: string | null; crmAddressState?: string | null };
  consent: DerivedConsent;
  /** An open review after an unclear inbound text, or null. */
  pause: { reviewId: string; reason: string; since: Date } | null;
  settings: OrgComplianceSettings;
  /** Latest message of this conversation (either direction), or null for a new conversation. */
  lastMessageAt: Date | null;
  /** When the customer last wrote in this conversation, or null. */
  lastInboundAt?: Date | null;
  /** Conversation texts to this phone from this org in the 24 hours before `now`. */
  sentInLast24h: number;
  now: Date;
  /** When the text is to leave, if scheduled; quiet hours are judged at this instant. */
  sendAt?: Date | null;
}

export interface OutboundDecision {
  allowed: boolean;
  refusals: Refusal[];
  /** The exact text that will be stored and sent (first-contact notice included). */
  finalText: string;
  firstContactNotice: { identification: boolean; optOut: boolean };
  segments: number;
  encoding: SmsEncoding;
  recipientLocalTime: { zone: string; localTime: string; zoneSource: RecipientZones['source'] } | null;
  /** Earliest instant quiet hours allow, when they refuse. */
  nextAllowedAt: string | null;
  /** Refused for quiet hours alone: the same text may be scheduled for `nextAllowedAt`. */
  schedulable: boolean;
  /** Allowed in quiet hours only by the org's reply-window policy; the server records it. */
  quietHoursException: {
    policy: 'customer_reply_window';
    lastInboundAt: string;
    windowMinutes: number;
  } | null;
}

const localFormat = new Map<string, Intl.DateTimeFormat>();
function localTimeIn(zone: string, at: Date): string {
  let f = localFormat.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    localFormat.set(zone, f);
  }
  return f.format(at).replace(' ', 'T');
}

/** Decides whether a conversation text may be sent, and exactly what would be sent. */
export function decideOutbound(facts: OutboundDecisionFacts): OutboundDecision {
  const refusals: Refusal[] = [];
  const { consent, settings } = facts;

  if (consent.status === 'opted_out') {
    refusals.push({
      code: 'OPTED_OUT',
      message: `The recipient opted out${consent.source === null ? '' : ` (${consent.source})`}; no message may be sent.`,
      details: { since: consent.since?.toISOString() ?? null, source: consent.source },
    });
  } else if (consent.status !== 'opted_in') {
    refusals.push({
      code: 'NO_CONSENT',
      message: 'No opt-in is recorded for this number. Record the customer’s consent before texting.',
      details: {},
    });
  }

  if (facts.pause !== null && consent.status !== 'opted_out') {
    refusals.push({
      code: 'PAUSED_FOR_REVIEW',
      message:
        'The customer’s last reply may be an opt-out; texting is paused until a reviewer decides. Call or email them meanwhile.',
      details: {
        reviewId: facts.pause.reviewId,
        reason: facts.pause.reason,
        since: facts.pause.since.toISOString(),
      },
    });
  }

  const scan = scanText(facts.text);
  const blocked = scan.findings.filter((f) => f.kind !== 'phi' || !settings.phiAllowed);
  if (blocked.length > 0) {
    const kinds = [...new Set(blocked.map((f) => f.kind))];
    refusals.push({
      code: 'SENSITIVE_CONTENT',
      message: `The text contains ${kinds
        .map(
          (k) =>
            ({
              card: 'card data',
              ssn: 'a Social Security number',
              bank: 'bank numbers',
              phi: 'health information',
            })[k],
        )
        .join(
          ', ',
        )}, which must not be sent by SMS. Use a secure payment link, a call or a secure portal instead.`,
      details: {
        findings: blocked.map((f) => ({ kind: f.kind, start: f.start, end: f.end, detail: f.detail })),
      },
    });
  }

  const notice = applyFirstContactNotice({
    text: facts.text,
    orgName: settings.identificationName,
    lastMessageAt: facts.lastMessageAt,
    now: facts.now,
    silenceDays: settings.reintroduceAfterDays,
  });
  if (!notice.segments.withinLimit) {
    refusals.push({
      code: 'BODY_TOO_LONG',
      message: `With the sender identification and opt-out notice the text is too long for one SMS (${notice.segments.encoding}, ${notice.segments.units} units).`,
      details: { encoding: notice.segments.encoding, segments: notice.segments.segments },
    });
  }

  const zones = resolveRecipientZones({
    phoneE164: facts.recipient.phone,
    crmTimeZone: facts.recipient.crmTimeZone ?? null,
    crmAddressState: facts.recipient.crmAddressState ?? null,
  });
  const cap = evaluateFrequencyCap({ states: zones.states, sentInLast24h: facts.sentInLast24h });
  if (!cap.allowed) {
    refusals.push({
      code: 'FREQUENCY_CAP',
      message: cap.reason ?? 'Too many messages to this number in the last 24 hours.',
      details: { limit: cap.limit, states: cap.states, sentInLast24h: facts.sentInLast24h },
    });
  }

  const at = facts.sendAt ?? facts.now;
  const quiet = evaluateQuietHours({
    zones: zones.zones,
    states: zones.states,
    countries: zones.countries,
    now: at,
  });
  const nextAllowedAt = quiet.nextAllowedAt?.toISOString() ?? null;
  // A reply sent now (not scheduled) within minutes of the customer's own text may pass quiet
  // hours when the org allows it; an unknown time zone is never excused.
  const window = facts.settings.quietHoursReplyWindowMinutes;
  const excused =
    !quiet.allowed &&
    quiet.code !== 'UNKNOWN_TIME_ZONE' &&
    window > 0 &&
    (facts.sendAt ?? null) === null &&
    facts.lastInboundAt != null &&
    facts.now.getTime() - facts.lastInboundAt.getTime() <= window * 60_000 &&
    facts.lastInboundAt.getTime() <= facts.now.getTime();
  const quietHoursException =
    excused && facts.lastInboundAt != null
      ? {
          policy: 'customer_reply_window' as const,
          lastInboundAt: facts.lastInboundAt.toISOString(),
          windowMinutes: window,
        }
      : null;
  if (!quiet.allowed && !excused) {
    const code = quiet.code ?? 'QUIET_HOURS';
    refusals.push({
      code,
      message:
        code === 'QUIET_HOURS'
          ? `Quiet hours at the recipient’s location: ${quiet.reason ?? quiet.rule}.${nextAllowedAt === null ? '' : ` Texting is allowed again at ${nextAllowedAt}; schedule it with sendAt.`}`
          : (quiet.reason ?? 'The recipient’s time zone is unknown.'),
      details: {
        ...(nextAllowedAt === null ? {} : { nextAllowedAt }),
        rule: quiet.rule,
        rulesVersion: quiet.rulesVersion,
        zones: zones.zones,
        zoneSource: zones.source,
      },
    });
  }

  const firstZone = zones.zones[0];
  return {
    allowed: refusals.length === 0,
    refusals,
    finalText: notice.text,
    firstContactNotice: notice.added,
    segments: notice.segments.segments,
    encoding: notice.segments.encoding,
    recipientLocalTime:
      firstZone === undefined
        ? null
        : { zone: firstZone, localTime: localTimeIn(firstZone, at), zoneSource: zones.source },
    quietHoursException,
    nextAllowedAt: quiet.allowed || excused ? null : nextAllowedAt,
    schedulable:
      refusals.length > 0 && nextAllowedAt !== null && refusals.every((r) => r.code === 'QUIET_HOURS'),
  };
}
