/**
 * Every decision about one outbound text, in one pure function (#4, #14). The send endpoint, the
 * preflight endpoint (and so the extension's live preflight, which asks it) and the outbox
 * worker's re-check at dequeue all call it, so they cannot judge by different rules: a preflight
 * that says "allowed" and a send that refuses (or the reverse) can only come from a change of
 * facts. Checks are not short-circuited: the composer shows every reason, and the first refusal
 * is the one a caller reports.
 */
import type { DerivedConsent } from './consent.ts';
import { scanText } from './content-scanner.ts';
import { applyFirstContactNotice } from './first-contact.ts';
import { type OrgQuietHoursPolicy, orgHoursOf } from './org-quiet-hours.ts';
import type { OrgComplianceSettings } from './org-settings.ts';
import { evaluateFrequencyCap, evaluateQuietHours } from './quiet-hours.ts';
import { type RecipientZones, resolveRecipientZones } from './recipient-zones.ts';
import { countSegments, lengthAgainstLimit, type SegmentInfo, type SmsEncoding } from './segments.ts';
import { localDateTime } from './zone-clock.ts';

/** Why an outbound message exists; system replies follow different consent rules. */
export type MessagePurpose =
  | 'conversation'
  | 'opt_out_confirmation'
  | 'opt_in_confirmation'
  | 'help_reply'
  /** The automatic "please don't text card numbers" reply to a redacted inbound text. */
  | 'card_warning'
  /** Double opt-in: "reply YES to receive texts", sent once when a rep records an opt-in. */
  | 'opt_in_request';

/** Minutes after an opt-out within which its single confirmation may still leave (FCC, Plivo). */
export const CONFIRMATION_WINDOW_MINUTES = 5;

export type RefusalCode =
  | 'OPTED_OUT'
  | 'NO_OPT_OUT'
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

/** The facts of a text a rep is composing or sending: every rule applies. */
export interface OutboundDecisionFacts {
  stage?: 'compose';
  /** The text as the rep wrote it. */
  text: string;
  /** `text` already counted by the caller, so a send counts its text once. */
  textSegments?: SegmentInfo;
  recipient: {
    phone: string;
    crmTimeZone?: string | null;
    crmAddressState?: string | null;
    /** The recipient's zones, when the caller resolved them from these facts already. */
    zones?: RecipientZones;
  };
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

/**
 * The facts the outbox worker has when a stored message is about to leave. The text was judged
 * when it was accepted (content, length, first-contact notice, frequency cap) and is not judged
 * again; consent, an open review and quiet hours may have changed since, and are.
 */
export interface DequeueDecisionFacts {
  stage: 'dequeue';
  /** The stored text, exactly as it will be sent. */
  text: string;
  purpose: MessagePurpose;
  /** With the zone the send was judged by; quiet hours are judged at `now`. */
  recipient: { phone: string; crmTimeZone?: string | null };
  consent: DerivedConsent;
  pause: OutboundDecisionFacts['pause'];
  /** Confirmations already sent since the latest opt-out (only one may leave). */
  confirmationsSinceOptOut: number;
  /** The org's reply-window policy let this text through quiet hours, and its window is still open. */
  quietHoursExcused: boolean;
  /** The org's quiet-hours policy now (quietHours.*): a text queued in its hours may reach dequeue after them. */
  quietHours: OrgQuietHoursPolicy;
  now: Date;
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

/**
 * The consent rule for a message of `purpose`: a conversation text needs a recorded opt-in; after
 * an opt-out only one confirmation may leave, within five minutes; replies to a text the customer
 * just sent (HELP, the card warning) and the double opt-in question need no prior opt-in: they
 * exist because there is none yet.
 */
function consentRefusal(
  purpose: MessagePurpose,
  consent: DerivedConsent,
  confirmationsSinceOptOut: number,
  now: Date,
): Refusal | null {
  if (purpose === 'opt_out_confirmation') {
    if (consent.status !== 'opted_out' || consent.since === null) {
      return { code: 'NO_OPT_OUT', message: 'There is no opt-out to confirm for this number.', details: {} };
    }
    const ageMinutes = (now.getTime() - consent.since.getTime()) / 60_000;
    if (confirmationsSinceOptOut > 0 || ageMinutes > CONFIRMATION_WINDOW_MINUTES) {
      return {
        code: 'OPTED_OUT',
        message: 'The recipient opted out; its single confirmation was already sent or is too late.',
        details: { since: consent.since.toISOString(), source: consent.source },
      };
    }
    return null;
  }
  if (consent.status === 'opted_out') {
    return {
      code: 'OPTED_OUT',
      message: `The recipient opted out${consent.source === null ? '' : ` (${consent.source})`}; no message may be sent.`,
      details: { since: consent.since?.toISOString() ?? null, source: consent.source },
    };
  }
  if (purpose === 'help_reply' || purpose === 'card_warning' || purpose === 'opt_in_request') return null;
  if (consent.status !== 'opted_in') {
    return {
      code: 'NO_CONSENT',
      message: 'No opt-in is recorded for this number. Record the customer’s consent before texting.',
      details: {},
    };
  }
  return null;
}

function pauseRefusal(pause: OutboundDecisionFacts['pause']): Refusal | null {
  if (pause === null) return null;
  return {
    code: 'PAUSED_FOR_REVIEW',
    message:
      'The customer’s last reply may be an opt-out; texting is paused until a reviewer decides. Call or email them meanwhile.',
    details: { reviewId: pause.reviewId, reason: pause.reason, since: pause.since.toISOString() },
  };
}

const FINDING_NAMES = {
  card: 'card data',
  ssn: 'a Social Security number',
  bank: 'bank numbers',
  phi: 'health information',
} as const;

function contentRefusal(text: string, phiAllowed: boolean): Refusal | null {
  const blocked = scanText(text).findings.filter((f) => f.kind !== 'phi' || !phiAllowed);
  if (blocked.length === 0) return null;
  const kinds = [...new Set(blocked.map((f) => f.kind))];
  return {
    code: 'SENSITIVE_CONTENT',
    message: `The text contains ${kinds
      .map((k) => FINDING_NAMES[k])
      .join(
        ', ',
      )}, which must not be sent by SMS. Use a secure payment link, a call or a secure portal instead.`,
    details: {
      findings: blocked.map((f) => ({ kind: f.kind, start: f.start, end: f.end, detail: f.detail })),
    },
  };
}

/**
 * Quiet hours at `at`: the law's, the emergencies the org declared, and the org's own hours.
 * `excuse` is the reply window (a customer who just wrote). It excuses the org's own hours, so a
 * customer may be answered outside business hours; where the org keeps hours of its own, never
 * the law's. Without them it reaches into the law's quiet hours, as it always has. An unknown
 * time zone is never excused.
 */
function quietHoursJudgement(
  zones: RecipientZones,
  at: Date,
  policy: OrgQuietHoursPolicy,
  excuse: () => boolean,
): { refusal: Refusal | null; excused: boolean; nextAllowedAt: string | null } {
  const org = orgHoursOf(policy);
  const quiet = evaluateQuietHours({
    zones: zones.zones,
    states: zones.states,
    countries: zones.countries,
    now: at,
    context: { emergencies: policy.emergencyStates },
    org,
  });
  const nextAllowedAt = quiet.nextAllowedAt?.toISOString() ?? null;
  if (quiet.allowed) return { refusal: null, excused: false, nextAllowedAt };
  const excusable = quiet.code === 'QUIET_HOURS' && (quiet.by === 'org' || org === undefined);
  if (excusable && excuse()) return { refusal: null, excused: true, nextAllowedAt };
  const code = quiet.code ?? 'QUIET_HOURS';
  const again =
    nextAllowedAt === null ? '' : ` Texting is allowed again at ${nextAllowedAt}; schedule it with sendAt.`;
  const reason = quiet.reason ?? quiet.rule;
  return {
    excused: false,
    nextAllowedAt,
    refusal: {
      code,
      message:
        code !== 'QUIET_HOURS'
          ? (quiet.reason ?? 'The recipient’s time zone is unknown.')
          : quiet.by === 'org'
            ? `${reason}.${again}`
            : `Quiet hours at the recipient’s location: ${reason}.${again}`,
      details: {
        ...(nextAllowedAt === null ? {} : { nextAllowedAt }),
        rule: quiet.rule,
        ...(quiet.by === undefined ? {} : { by: quiet.by }),
        rulesVersion: quiet.rulesVersion,
        zones: zones.zones,
        zoneSource: zones.source,
      },
    },
  };
}

/** The org's reply-window policy: a text sent now within minutes of the customer's own may pass quiet hours. */
function replyWindowOpen(facts: OutboundDecisionFacts): boolean {
  const window = facts.settings.quietHoursReplyWindowMinutes;
  return (
    window > 0 &&
    (facts.sendAt ?? null) === null &&
    facts.lastInboundAt != null &&
    facts.now.getTime() - facts.lastInboundAt.getTime() <= window * 60_000 &&
    facts.lastInboundAt.getTime() <= facts.now.getTime()
  );
}

function localTimeOf(zones: RecipientZones | null, at: Date): OutboundDecision['recipientLocalTime'] {
  const firstZone = zones?.zones[0];
  if (zones === null || firstZone === undefined) return null;
  return { zone: firstZone, localTime: localDateTime(firstZone, at), zoneSource: zones.source };
}

const present = (r: Refusal | null): r is Refusal => r !== null;

/**
 * Decides whether a text may leave, and exactly what would be sent: for a rep's text at preflight
 * and send, or for a stored message at dequeue.
 */
export function decideOutbound(facts: OutboundDecisionFacts | DequeueDecisionFacts): OutboundDecision {
  return facts.stage === 'dequeue' ? decideAtDequeue(facts) : decideComposed(facts);
}

function decideComposed(facts: OutboundDecisionFacts): OutboundDecision {
  const { consent, settings } = facts;
  const notice = applyFirstContactNotice({
    text: facts.text,
    orgName: settings.identificationName,
    lastMessageAt: facts.lastMessageAt,
    now: facts.now,
    silenceDays: settings.reintroduceAfterDays,
    ...(facts.textSegments === undefined ? {} : { counted: facts.textSegments }),
  });
  const tooLong: Refusal | null = notice.segments.withinLimit
    ? null
    : {
        code: 'BODY_TOO_LONG',
        message: `With the sender identification and opt-out notice the text is too long: ${lengthAgainstLimit(notice.segments)}.`,
        details: {
          encoding: notice.segments.encoding,
          segments: notice.segments.segments,
          length: notice.segments.length,
          maxLength: notice.segments.maxLength,
        },
      };
  const zones =
    facts.recipient.zones ??
    resolveRecipientZones({
      phoneE164: facts.recipient.phone,
      crmTimeZone: facts.recipient.crmTimeZone ?? null,
      crmAddressState: facts.recipient.crmAddressState ?? null,
    });
  const cap = evaluateFrequencyCap({ states: zones.states, sentInLast24h: facts.sentInLast24h });
  const capRefusal: Refusal | null = cap.allowed
    ? null
    : {
        code: 'FREQUENCY_CAP',
        message: cap.reason ?? 'Too many messages to this number in the last 24 hours.',
        details: { limit: cap.limit, states: cap.states, sentInLast24h: facts.sentInLast24h },
      };
  const at = facts.sendAt ?? facts.now;
  const quiet = quietHoursJudgement(zones, at, settings.quietHours, () => replyWindowOpen(facts));
  const refusals = [
    consentRefusal('conversation', consent, 0, facts.now),
    consent.status === 'opted_out' ? null : pauseRefusal(facts.pause),
    contentRefusal(facts.text, settings.phiAllowed),
    tooLong,
    capRefusal,
    quiet.refusal,
  ].filter(present);
  const { lastInboundAt } = facts;
  return {
    allowed: refusals.length === 0,
    refusals,
    finalText: notice.text,
    firstContactNotice: notice.added,
    segments: notice.segments.segments,
    encoding: notice.segments.encoding,
    recipientLocalTime: localTimeOf(zones, at),
    quietHoursException:
      quiet.excused && lastInboundAt != null
        ? {
            policy: 'customer_reply_window',
            lastInboundAt: lastInboundAt.toISOString(),
            windowMinutes: settings.quietHoursReplyWindowMinutes,
          }
        : null,
    nextAllowedAt: quiet.refusal === null ? null : quiet.nextAllowedAt,
    schedulable:
      refusals.length > 0 && quiet.nextAllowedAt !== null && refusals.every((r) => r.code === 'QUIET_HOURS'),
  };
}

function decideAtDequeue(facts: DequeueDecisionFacts): OutboundDecision {
  const conversation = facts.purpose === 'conversation';
  const consent = consentRefusal(facts.purpose, facts.consent, facts.confirmationsSinceOptOut, facts.now);
  // System replies answer the customer's own text: quiet hours and a review pause do not hold
  // them. A text the reply window let through is not held while its window lasts: by the org's
  // own hours, and by the law's unless the org keeps hours of its own (as at send).
  const excusedOfAll = facts.quietHoursExcused && orgHoursOf(facts.quietHours) === undefined;
  const zones =
    conversation && !excusedOfAll
      ? resolveRecipientZones({
          phoneE164: facts.recipient.phone,
          crmTimeZone: facts.recipient.crmTimeZone ?? null,
        })
      : null;
  const quiet =
    zones === null
      ? null
      : quietHoursJudgement(zones, facts.now, facts.quietHours, () => facts.quietHoursExcused);
  const refusals = [
    consent,
    conversation && facts.consent.status !== 'opted_out' ? pauseRefusal(facts.pause) : null,
    quiet?.refusal ?? null,
  ].filter(present);
  const segments = countSegments(facts.text);
  return {
    allowed: refusals.length === 0,
    refusals,
    finalText: facts.text,
    firstContactNotice: { identification: false, optOut: false },
    segments: segments.segments,
    encoding: segments.encoding,
    recipientLocalTime: localTimeOf(zones, facts.now),
    quietHoursException: null,
    nextAllowedAt: quiet?.refusal == null ? null : quiet.nextAllowedAt,
    schedulable:
      refusals.length > 0 && quiet?.nextAllowedAt != null && refusals.every((r) => r.code === 'QUIET_HOURS'),
  };
}
