/**
 * The server half of an outbound decision (#4): validates a send or preflight request, reads
 * every fact the rules need in ONE query (the send path's only read), and hands them to the pure
 * `decideOutbound`. The send and preflight endpoints both come through here, so they cannot
 * disagree.
 */
import type { ContactRef } from '../../crm-plugins/types.ts';
import { deriveConsent } from '../compliance/consent.ts';
import { decideOutbound, type OutboundDecision } from '../compliance/decide.ts';
import { parseOrgSettings } from '../compliance/org-settings.ts';
import { evaluateFrequencyCap, resolveRecipientZones } from '../compliance/quiet-hours.ts';
import { countSegments } from '../compliance/segments.ts';
import { ApiError } from '../errors.ts';
import type { Deps } from '../http/types.ts';
import { checkE164 } from '../phone.ts';

export interface OutboundRequest {
  from: string;
  to: string;
  body: string;
  contact?: ContactRef | undefined;
  sendAt?: string | undefined;
}

/**
 * How far ahead a text may be scheduled: enough to reach past a weekend with a Sunday ban and a
 * holiday. The outbox worker measures a job's maximum age from when it is due (`available_at`),
 * so a scheduled text is not failed for waiting.
 */
export const MAX_SCHEDULE_AHEAD_HOURS = 24 * 7;
/** How long a CRM lookup of the contact's time zone may hold up a send before the area code decides. */
const CRM_LOOKUP_TIMEOUT_MS = 300;

export interface CheckedOutbound {
  senderId: string | null;
  /** A message already stored under the request's idempotency key. */
  replayId: string | null;
  decision: OutboundDecision;
  /** The scheduled instant, or null to send now. */
  sendAt: Date | null;
}

/** Input errors (4xx) shared by send and preflight; compliance refusals are not errors here. */
export function validateOutbound(input: OutboundRequest, now: Date): { sendAt: Date | null } {
  for (const field of ['from', 'to'] as const) {
    const check = checkE164(input[field]);
    if (!check.ok) {
      throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"${field}" ${check.reason}.`, { field });
    }
  }
  if (input.body.trim() === '') throw new ApiError(422, 'EMPTY_BODY', 'The message body is empty.');
  const info = countSegments(input.body);
  if (!info.withinLimit) {
    throw new ApiError(
      422,
      'BODY_TOO_LONG',
      `The message is too long for one SMS (${info.encoding}, ${info.units} units).`,
      { encoding: info.encoding, segments: info.segments },
    );
  }
  if (input.sendAt === undefined) return { sendAt: null };
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
  return { sendAt: at.getTime() > now.getTime() ? at : null };
}

async function crmTimeZone(deps: Deps, ref: ContactRef | undefined): Promise<string | null> {
  if (ref === undefined) return null;
  const plugin = deps.crm.get(ref.crm);
  if (plugin === null) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), CRM_LOOKUP_TIMEOUT_MS);
  });
  try {
    const contact = await Promise.race([plugin.findContactById(ref).catch(() => null), timeout]);
    return contact?.timeZone ?? null;
  } finally {
    clearTimeout(timer);
  }
}

interface FactsRow {
  sender_id: string | null;
  replay_id: string | null;
  org_name: string;
  settings: unknown;
  kind: 'opt_in' | 'opt_out' | null;
  source: string | null;
  occurred_at: Date | null;
  review_id: string | null;
  review_reason: string | null;
  review_since: Date | null;
  last_message_at: Date | null;
  last_inbound_at: Date | null;
  sent_24h: number;
  contact_time_zone: string | null;
}

const factsQueries = new Map<string, string>();

/**
 * The one read of the send path. Each extra relation costs planning time on every send, so the
 * recent-texts count is only part of it where a state caps texts, and the CRM contact lookup only
 * when the request names a contact: four fixed texts, chosen by those two facts, never by input.
 */
function factsQuery(withCount: boolean, withContact: boolean): string {
  const id = `${withCount}:${withContact}`;
  const cached = factsQueries.get(id);
  if (cached !== undefined) return cached;
  let next = 5;
  const count = withCount
    ? `(SELECT count(*)::int FROM (
         SELECT 1 FROM conversations v JOIN messages m ON m.conversation_id = v.id
          WHERE v.org_id = $1 AND v.contact_phone = $3 AND m.direction = 'outbound'
            AND m.purpose = 'conversation' AND m.status <> 'failed'
            AND m.created_at > $${next++}::timestamptz - interval '24 hours'
          LIMIT $${next++}::int) recent)`
    : '0';
  const contact = withContact
    ? `(SELECT time_zone FROM contacts
         WHERE org_id = $1 AND crm = $${next++} AND crm_object = $${next++} AND crm_id = $${next++})`
    : 'NULL::text';
  const sql = `SELECT s.id AS sender_id,
         (SELECT id FROM messages WHERE org_id = $1 AND idempotency_key = $4) AS replay_id,
         o.name AS org_name, o.settings,
         c.kind, c.source, c.occurred_at,
         r.id AS review_id, r.reason AS review_reason, r.created_at AS review_since,
         v.last_message_at, v.last_inbound_at,
         ${count} AS sent_24h,
         ${contact} AS contact_time_zone
    FROM orgs o
    LEFT JOIN sender_numbers s ON s.org_id = o.id AND s.e164 = $2
    LEFT JOIN conversations v ON v.org_id = o.id AND v.sender_number_id = s.id AND v.contact_phone = $3
    LEFT JOIN consent_reviews r ON r.org_id = o.id AND r.phone_e164 = $3 AND r.status = 'open'
    LEFT JOIN LATERAL (SELECT kind, source, occurred_at FROM consent_events
                        WHERE org_id = $1 AND phone_e164 = $3 ORDER BY id DESC LIMIT 1) c ON true
   WHERE o.id = $1`;
  factsQueries.set(id, sql);
  return sql;
}

/** Reads the facts (one query, plus the CRM's time zone in parallel) and decides. */
export async function checkOutbound(
  deps: Deps,
  orgId: string,
  input: OutboundRequest,
  idempotencyKey: string | null,
): Promise<CheckedOutbound> {
  const now = deps.clock();
  const { sendAt } = validateOutbound(input, now);
  // Recent texts are counted only where a state caps them, and only up to the cap: the common
  // case reads no message rows at all. (States come from the area code; a CRM time zone adds none.)
  const cap = evaluateFrequencyCap({
    states: resolveRecipientZones({ phoneE164: input.to }).states,
    sentInLast24h: 0,
  });
  const countUpTo = cap.limit ?? 0;
  const params: unknown[] = [orgId, input.from, input.to, idempotencyKey];
  if (countUpTo > 0) params.push(now, countUpTo);
  if (input.contact !== undefined) params.push(input.contact.crm, input.contact.objectType, input.contact.id);
  const [rows, liveZone] = await Promise.all([
    deps.db.query<FactsRow>(factsQuery(countUpTo > 0, input.contact !== undefined), params),
    crmTimeZone(deps, input.contact),
  ]);
  const facts = rows[0];
  if (facts === undefined) throw new Error(`org ${orgId} vanished`);
  const decision = decideOutbound({
    text: input.body,
    recipient: { phone: input.to, crmTimeZone: facts.contact_time_zone ?? liveZone },
    consent: deriveConsent(
      facts.kind === null || facts.source === null || facts.occurred_at === null
        ? []
        : [{ kind: facts.kind, source: facts.source, occurredAt: facts.occurred_at }],
    ),
    pause:
      facts.review_id === null || facts.review_since === null
        ? null
        : { reviewId: facts.review_id, reason: facts.review_reason ?? '', since: facts.review_since },
    settings: parseOrgSettings(facts.org_name, facts.settings),
    lastMessageAt: facts.last_message_at,
    lastInboundAt: facts.last_inbound_at,
    sentInLast24h: facts.sent_24h,
    now,
    sendAt,
  });
  return { senderId: facts.sender_id, replayId: facts.replay_id, decision, sendAt };
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
