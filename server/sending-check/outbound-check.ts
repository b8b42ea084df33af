/**
 * The server half of an outbound decision (#4): validates a send or preflight request, reads
 * every fact the rules need in ONE query (the send path's only read, batched with the other sends
 * of the moment by ./facts-reader.ts), and hands them to the pure
 * `decideOutbound`. The send and preflight endpoints both come through here, so they cannot
 * disagree.
 */
import type { ContactRef } from '../../crm-plugins/types.ts';
import type { Clock } from '../clock.ts';
import { deriveConsent } from '../compliance/consent.ts';
import { decideOutbound, type OutboundDecision, type OutboundDecisionFacts } from '../compliance/decide.ts';
import { parseOrgSettings } from '../compliance/org-settings.ts';
import { evaluateFrequencyCap } from '../compliance/quiet-hours.ts';
import { preferCrmTimeZone, resolveRecipientZones, type ZoneSource } from '../compliance/recipient-zones.ts';
import { countSegments, lengthAgainstLimit, type SegmentInfo } from '../compliance/segments.ts';
import type { OrgCrmSource } from '../crm-sync/org-crms.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { ANSWER_WINDOW_MS, type OtherAnswer } from '../inbox/answer-guard.ts';
import { checkE164 } from '../phone.ts';
import { phoneToken } from '../stores/phone-columns.ts';
import { cachedRecipient, crmTimeZone, recipientFromCrm } from './crm-recipient.ts';
import { type FactsRow, factsOf } from './facts-reader.ts';

export interface OutboundRequest {
  from: string;
  /** The recipient; may be left out when `contact` names a CRM record: its first phone is used. */
  to?: string | undefined;
  body: string;
  contact?: ContactRef | undefined;
  sendAt?: string | undefined;
}

/** What an outbound check uses of the app's dependencies (reads only). */
export interface OutboundDeps {
  db: Queryable;
  crm: OrgCrmSource;
  clock: Clock;
}

/**
 * How far ahead a text may be scheduled: enough to reach past a weekend with a Sunday ban and a
 * holiday. The outbox worker measures a job's maximum age from when it is due (`available_at`),
 * so a scheduled text is not failed for waiting.
 */
export const MAX_SCHEDULE_AHEAD_HOURS = 24 * 7;

export interface CheckedOutbound {
  /** The recipient: `to` as sent, or the phone the CRM holds for `contact`. */
  to: string;
  senderId: string | null;
  /** A message already stored under the request's idempotency key. */
  replayId: string | null;
  decision: OutboundDecision;
  /** The scheduled instant, or null to send now. */
  sendAt: Date | null;
  /** The relay's clock at the decision: the stored message carries this instant. */
  now: Date;
  /** The CRM's time zone for the recipient that the decision used, if any. */
  crmTimeZone: string | null;
  /** Another rep's recent answer to the customer's latest text; read only when `answeringAs` is given. */
  otherAnswer: OtherAnswer | null;
}

/**
 * The CRM record a send without `to` goes to; a send that names neither a number nor a record is
 * refused (400 CONTACT_REFERENCE_REQUIRED).
 */
export function contactReference(input: OutboundRequest): ContactRef {
  if (input.contact === undefined) {
    throw new ApiError(
      400,
      'CONTACT_REFERENCE_REQUIRED',
      'Name the recipient: "to" (a phone number, like 202-555-0143 or +44 20 7946 0958) or "contact" (a CRM record whose phone the relay looks up).',
    );
  }
  return input.contact;
}

/** Input errors (4xx) shared by send and preflight; compliance refusals are not errors here. */
export function validateOutbound(
  input: OutboundRequest,
  now: Date,
): { sendAt: Date | null; segments: SegmentInfo } {
  if (input.to === undefined) contactReference(input);
  for (const field of ['from', 'to'] as const) {
    const value = input[field];
    if (value === undefined) continue;
    const check = checkE164(value);
    if (!check.ok) {
      throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"${field}" ${check.reason}.`, { field });
    }
  }
  if (input.body.trim() === '') throw new ApiError(422, 'EMPTY_BODY', 'The message body is empty.');
  const info = countSegments(input.body);
  if (!info.withinLimit) {
    throw new ApiError(422, 'BODY_TOO_LONG', `The message is too long: ${lengthAgainstLimit(info)}.`, {
      encoding: info.encoding,
      segments: info.segments,
      length: info.length,
      maxLength: info.maxLength,
    });
  }
  if (input.sendAt === undefined) return { sendAt: null, segments: info };
  const at = new Date(input.sendAt);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(input.sendAt) ||
    Number.isNaN(at.getTime())
  ) {
    throw new ApiError(422, 'INVALID_SEND_AT', '"sendAt" must be an ISO 8601 time with a zone.', {
      field: 'sendAt',
    });
  }
  if (at.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_HOURS * 3_600_000) {
    throw new ApiError(
      422,
      'INVALID_SEND_AT',
      `"sendAt" may be at most ${MAX_SCHEDULE_AHEAD_HOURS} hours ahead.`,
      { field: 'sendAt', maxHoursAhead: MAX_SCHEDULE_AHEAD_HOURS },
    );
  }
  // A time already past means "now": the request was slow, not a wish to send yesterday.
  return { sendAt: at.getTime() > now.getTime() ? at : null, segments: info };
}

/** An open review that pauses conversation texts to a number, as the rules take it. */
export type ReviewPause = OutboundDecisionFacts['pause'];

function pauseOf(row: {
  review_id: string | null;
  review_reason: string | null;
  review_since: Date | null;
}): ReviewPause {
  return row.review_id === null || row.review_since === null
    ? null
    : { reviewId: row.review_id, reason: row.review_reason ?? '', since: row.review_since };
}

/** Who asks for the check, and for what. */
export interface OutboundCall {
  /** The send's idempotency key; null for a preflight, which may reuse a recent CRM lookup. */
  idempotencyKey: string | null;
  /** A stored text judged again (a reschedule): it does not count towards its own frequency cap. */
  stored?: { messageId: string } | null;
  /** The rep sending, whose send the collision guard looks at; null for none (keys, preflight). */
  answeringAs?: string | null;
}

/**
 * Reads the facts (one query, plus the CRM's time zone in parallel) and decides. A request
 * without `to` first asks the CRM for the contact's phone; with `to`, nothing is added.
 */
export async function checkOutbound(
  deps: OutboundDeps,
  orgId: string,
  input: OutboundRequest,
  call: OutboundCall,
): Promise<CheckedOutbound> {
  const { idempotencyKey, stored = null, answeringAs = null } = call;
  const now = deps.clock();
  const { sendAt, segments } = validateOutbound(input, now);
  let to: string;
  let fromCrm: { to: string; timeZone: string | null } | null = null;
  if (input.to !== undefined) to = input.to;
  else {
    // A preflight (no idempotency key) may reuse a lookup from a moment ago; a send asks the CRM.
    fromCrm =
      idempotencyKey === null
        ? await cachedRecipient(deps.crm, orgId, contactReference(input))
        : await recipientFromCrm(await deps.crm.forOrg(orgId), contactReference(input));
    to = fromCrm.to;
  }
  // Recent texts are counted only where a state caps them, and only up to the cap: the common
  // case reads no message rows at all. (States come from the area code; a CRM time zone adds none.)
  // The number's zones are resolved once; the CRM's zone, read below, is applied to them.
  const regional = resolveRecipientZones({ phoneE164: to });
  const cap = evaluateFrequencyCap({ states: regional.states, sentInLast24h: 0 });
  const countUpTo = cap.limit ?? 0;
  const [facts, liveZone] = await Promise.all([
    factsOf(deps.db, {
      orgId,
      from: input.from,
      phone: phoneToken(deps.db, to),
      idempotencyKey,
      countUpTo,
      since: now,
      excluding: stored?.messageId ?? null,
      contact: input.contact ?? null,
      answeringAs,
      answeredSince: answeringAs === null ? null : new Date(now.getTime() - ANSWER_WINDOW_MS),
    }),
    // The contact was just read to find its phone: its time zone came with it.
    fromCrm === null ? crmTimeZone(deps.crm, orgId, input.contact) : fromCrm.timeZone,
  ]);
  if (facts === undefined) throw new Error(`org ${orgId} vanished`);
  const crmZone = facts.contact_time_zone ?? liveZone;
  const decision = decideOutbound({
    text: input.body,
    textSegments: segments,
    recipient: { phone: to, crmTimeZone: crmZone, zones: preferCrmTimeZone(regional, crmZone ?? null) },
    consent: deriveConsent(
      facts.kind === null || facts.source === null || facts.occurred_at === null
        ? []
        : [{ kind: facts.kind, source: facts.source, occurredAt: facts.occurred_at }],
    ),
    pause: pauseOf(facts),
    settings: parseOrgSettings(facts.org_name, facts.settings),
    lastMessageAt: facts.last_message_at,
    lastInboundAt: facts.last_inbound_at,
    sentInLast24h: facts.sent_24h,
    now,
    sendAt,
  });
  return {
    to,
    senderId: facts.sender_id,
    replayId: facts.replay_id,
    decision,
    sendAt,
    now,
    crmTimeZone: crmZone ?? null,
    otherAnswer: otherAnswerOf(facts),
  };
}

/** Another rep's answer as the facts read found it (only asked for a rep's send). */
function otherAnswerOf(facts: FactsRow): OtherAnswer | null {
  if (facts.answered_id === null || facts.answered_by === null || facts.answered_at === null) return null;
  return {
    messageId: facts.answered_id,
    userId: facts.answered_by,
    name: facts.answered_name,
    at: facts.answered_at,
  };
}

/**
 * What the contact lookup shows of the facts a send to `phone` would read: the open review that
 * pauses it (the same rows checkOutbound joins), and the time zone stored for the CRM record,
 * which a send prefers to the CRM's own.
 */
export async function recipientStanding(
  db: Queryable,
  orgId: string,
  phone: string,
  ref: ContactRef,
): Promise<{ pause: ReviewPause; storedTimeZone: string | null }> {
  const rows = await db.query<{
    review_id: string | null;
    review_reason: string | null;
    review_since: Date | null;
    contact_time_zone: string | null;
  }>(
    `SELECT r.id AS review_id, r.reason AS review_reason, r.created_at AS review_since,
            (SELECT time_zone FROM contacts
              WHERE org_id = $1 AND crm = $3 AND crm_object = $4 AND crm_id = $5) AS contact_time_zone
       FROM (SELECT 1) AS one
       LEFT JOIN consent_reviews r ON r.org_id = $1 AND r.phone_e164 = $2 AND r.status = 'open'`,
    [orgId, phoneToken(db, phone), ref.crm, ref.objectType, ref.id],
  );
  const row = rows[0];
  return row === undefined
    ? { pause: null, storedTimeZone: null }
    : { pause: pauseOf(row), storedTimeZone: row.contact_time_zone };
}

/** The recipient's time zone, where it came from, and their wall clock (`YYYY-MM-DDTHH:MM`). */
export interface RecipientLocalTime {
  zone: string;
  source: ZoneSource;
  localTime: string;
}

/** Any settings will do for the clock alone: no setting changes the recipient's zone. */
const NEUTRAL_SETTINGS = parseOrgSettings('', {});

/**
 * The recipient's local time at `now` exactly as an outbound decision states it (the same zone
 * resolution, the same first zone, the same format): it is asked of `decideOutbound` itself, so
 * the panel's clock and the composer's preflight cannot drift apart. Null when no zone is known.
 */
export function recipientLocalTime(
  phone: string,
  crmTimeZone: string | null,
  now: Date,
): RecipientLocalTime | null {
  const { recipientLocalTime: local } = decideOutbound({
    text: '.',
    recipient: { phone, crmTimeZone },
    consent: deriveConsent([]),
    pause: null,
    settings: NEUTRAL_SETTINGS,
    lastMessageAt: now,
    sentInLast24h: 0,
    now,
  });
  return local === null ? null : { zone: local.zone, source: local.zoneSource, localTime: local.localTime };
}

/** The API's answer to a refused send: the first refusal's code, every refusal in details. */
export function refusalError(decision: OutboundDecision): ApiError {
  const [first] = decision.refusals;
  if (first === undefined) throw new Error('refusalError called for an allowed decision');
  return new ApiError(422, first.code, first.message, {
    refusals: decision.refusals,
    ...(decision.nextAllowedAt === null ? {} : { nextAllowedAt: decision.nextAllowedAt }),
  });
}
