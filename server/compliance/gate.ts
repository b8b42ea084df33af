import type { DerivedConsent } from './consent.ts';
import { evaluateQuietHours, resolveRecipientZones } from './quiet-hours.ts';

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

export interface OutboundFacts {
  purpose: MessagePurpose;
  consent: DerivedConsent;
  /** Confirmations already sent since the latest opt-out (only one may leave). */
  confirmationsSinceOptOut: number;
  now: Date;
  /** Optional: an open consent review pauses conversation texts (PAUSED_FOR_REVIEW). */
  paused?: boolean;
  /** Optional: when given, a conversation text must also be outside quiet hours at `now`. */
  recipient?: {
    phone: string;
    crmTimeZone?: string | null;
    /** The instant quiet hours are judged at (the compliance clock); defaults to `now`. */
    at?: Date;
  };
}

export type Verdict = { allow: true } | { allow: false; code: string; message: string };

/** Minutes after an opt-out within which its single confirmation may still leave (FCC, Plivo). */
export const CONFIRMATION_WINDOW_MINUTES = 5;

/**
 * The outbound gate of the foundation: a conversation message needs a recorded opt-in; after
 * an opt-out only one confirmation may leave, within five minutes. Pure: the server and the
 * extension's preflight call the same function, and the server's answer is the one that counts.
 */
export function evaluateOutbound(facts: OutboundFacts): Verdict {
  const { consent } = facts;
  if (facts.purpose === 'opt_out_confirmation') {
    if (consent.status !== 'opted_out' || consent.since === null) {
      return { allow: false, code: 'NO_OPT_OUT', message: 'There is no opt-out to confirm for this number.' };
    }
    const ageMinutes = (facts.now.getTime() - consent.since.getTime()) / 60_000;
    if (facts.confirmationsSinceOptOut > 0 || ageMinutes > CONFIRMATION_WINDOW_MINUTES) {
      return {
        allow: false,
        code: 'OPTED_OUT',
        message: 'The recipient opted out; its single confirmation was already sent or is too late.',
      };
    }
    return { allow: true };
  }
  if (consent.status === 'opted_out') {
    return {
      allow: false,
      code: 'OPTED_OUT',
      message: `The recipient opted out${consent.source === null ? '' : ` (${consent.source})`}; no message may be sent.`,
    };
  }
  // Replies to a text the customer just sent (HELP, the card warning) and the double opt-in
  // question need no prior opt-in: they exist because there is none yet.
  if (
    facts.purpose === 'help_reply' ||
    facts.purpose === 'card_warning' ||
    facts.purpose === 'opt_in_request'
  )
    return { allow: true };
  if (consent.status !== 'opted_in') {
    return {
      allow: false,
      code: 'NO_CONSENT',
      message: 'No opt-in is recorded for this number. Record the customer’s consent before texting.',
    };
  }
  if (facts.purpose === 'conversation' && facts.paused === true) {
    return {
      allow: false,
      code: 'PAUSED_FOR_REVIEW',
      message:
        'Texting this number is paused until a reviewer decides whether its last reply was an opt-out.',
    };
  }
  if (facts.purpose === 'conversation' && facts.recipient !== undefined) {
    const zones = resolveRecipientZones({
      phoneE164: facts.recipient.phone,
      crmTimeZone: facts.recipient.crmTimeZone ?? null,
    });
    const quiet = evaluateQuietHours({ ...zones, now: facts.recipient.at ?? facts.now });
    if (!quiet.allowed) {
      return {
        allow: false,
        code: quiet.code ?? 'QUIET_HOURS',
        message: quiet.reason ?? 'Quiet hours at the recipient’s location.',
      };
    }
  }
  return { allow: true };
}
