/**
 * The compliance settings an org keeps in `orgs.settings` (jsonb), parsed once at the boundary:
 * unknown or malformed values fall back to the safe default rather than failing a send.
 */
import { DEFAULT_SILENCE_DAYS } from './first-contact.ts';
import { type OrgQuietHoursPolicy, quietHoursPolicyOf } from './org-quiet-hours.ts';

export interface OrgComplianceSettings {
  /** How recipients know the sender (first-contact notice and system replies). */
  identificationName: string;
  helpReply: string;
  optOutReply: string;
  optInReply: string;
  /** Sent once per conversation per day when a customer texts card, bank or SSN numbers. */
  cardWarningReply: string;
  /** Whether health information may be texted (a covered entity with a BAA and patient consent). */
  phiAllowed: boolean;
  /** Days of silence after which the next text identifies the sender again. */
  reintroduceAfterDays: number;
  /** Opt-ins recorded by a rep (API, web form, verbal) stay pending until the customer answers YES. */
  doubleOptIn: boolean;
  /** The double opt-in question. */
  optInRequest: string;
  /**
   * Minutes after the customer's own text during which a reply may go out in quiet hours
   * (0 = never). Each such reply is recorded as a compliance exception.
   */
  quietHoursReplyWindowMinutes: number;
  /** The org's own hours, weekdays and declared emergencies (quietHours.*), on top of the law's. */
  quietHours: OrgQuietHoursPolicy;
}

const text = (value: unknown, max = 480): string | null =>
  typeof value === 'string' && value.trim() !== '' && value.length <= max ? value.trim() : null;

/** Parses `orgs.settings`; every field is optional. */
export function parseOrgSettings(orgName: string, raw: unknown): OrgComplianceSettings {
  const s = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  const name = text(s.identificationName, 60) ?? orgName;
  const days = s.reintroduceAfterDays;
  return {
    identificationName: name,
    helpReply:
      text(s.helpReply) ??
      `${name}: Msg frequency varies. Msg & data rates may apply. Reply STOP to opt out.`,
    optOutReply:
      text(s.optOutReply) ??
      `${name}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`,
    optInReply:
      text(s.optInReply) ??
      `${name}: You are subscribed again. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out.`,
    cardWarningReply:
      text(s.cardWarningReply) ??
      `${name}: For your security, please don't text card, bank or Social Security numbers. We removed it from our records; we will send you a secure payment link instead.`,
    phiAllowed: s.phiAllowed === true,
    reintroduceAfterDays:
      typeof days === 'number' && Number.isInteger(days) && days >= 1 && days <= 3650
        ? days
        : DEFAULT_SILENCE_DAYS,
    doubleOptIn: s.doubleOptIn === true,
    quietHoursReplyWindowMinutes:
      typeof s.quietHoursReplyWindowMinutes === 'number' &&
      Number.isInteger(s.quietHoursReplyWindowMinutes) &&
      s.quietHoursReplyWindowMinutes >= 0 &&
      s.quietHoursReplyWindowMinutes <= 60
        ? s.quietHoursReplyWindowMinutes
        : 0,
    quietHours: quietHoursPolicyOf(s),
    optInRequest:
      text(s.optInRequest) ??
      `${name}: Reply YES to receive texts from us. Msg frequency varies. Msg & data rates may apply. Reply STOP to opt out.`,
  };
}
