import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import type { Principal } from '../http/access.ts';
import { newId } from '../ids.ts';
import { phoneToken, phoneTokenOrNull } from '../stores/phone-columns.ts';
import type { PaymentSettings } from './payment-settings.ts';

/**
 * The guards a new payment request passes before it is stored (issue #15, item 6): the rep's
 * total over 24 hours, and holds for what looks unusual. Run in the transaction that stores the
 * request, after lockGuards: two requests of one rep (or to one number) are judged one after the
 * other, so neither can slip past a limit the other just reached.
 */

export type HoldReason =
  | 'links_per_hour'
  | 'repeat_number'
  | 'unknown_number'
  | 'unusual_amount'
  | 'card_testing';

export interface GuardInput {
  orgId: string;
  rep: { userId: string | null; keyId: string | null };
  phone: string;
  amountMinor: number;
  currency: string;
  settings: PaymentSettings;
  now: Date;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const HOLD_WORDS: Record<HoldReason, string> = {
  links_per_hour: 'you asked for many payments within an hour',
  repeat_number: 'this customer was sent several payment links within a day',
  unknown_number: 'this customer has never texted your organisation and the amount is large',
  unusual_amount: 'the amount is far above what you usually ask for',
  card_testing: 'several card attempts on this link failed one after another',
};

/** Words for a hold's reason, for a refusal or a manager's list. */
export const holdWords = (reason: HoldReason): string => HOLD_WORDS[reason];

/** One request at a time per rep and per customer number of an org. */
export async function lockGuards(
  tx: Queryable,
  input: Pick<GuardInput, 'orgId' | 'rep' | 'phone'>,
): Promise<void> {
  const rep = input.rep.userId ?? input.rep.keyId ?? 'none';
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`payment-guard:${input.orgId}:rep:${rep}`]);
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `payment-guard:${input.orgId}:phone:${input.phone}`,
  ]);
}

/** The SQL that picks the rep's rows (by user, else by API key) with its two parameters. */
const REP_SQL = `(created_by_user_id = $2::uuid OR ($2::uuid IS NULL AND created_by_key_id = $3::uuid))`;
const HOLD_REP_SQL = `(rep_user_id = $2::uuid OR ($2::uuid IS NULL AND rep_key_id = $3::uuid))`;

/**
 * The refusal a new request meets, or null when it may go. A pattern that crosses a limit is
 * stored as a hold first (the caller commits it and then refuses), so it outlives the refusal.
 */
export async function guardRefusal(tx: Queryable, input: GuardInput): Promise<ApiError | null> {
  return (
    (await openHoldRefusal(tx, input)) ??
    (await dailyTotalRefusal(tx, input)) ??
    (await patternRefusal(tx, input)) ??
    (await approvalRefusal(tx, input))
  );
}

async function openHoldRefusal(tx: Queryable, input: GuardInput): Promise<ApiError | null> {
  const [hold] = await tx.query<{ id: string; reason: HoldReason }>(
    `SELECT id, reason FROM payment_holds
      WHERE org_id = $1 AND released_at IS NULL
        AND ((reason = 'links_per_hour' AND ${HOLD_REP_SQL})
          OR (reason = 'repeat_number' AND phone_e164 = $4))
      ORDER BY created_at LIMIT 1`,
    [input.orgId, input.rep.userId, input.rep.keyId, phoneToken(tx, input.phone)],
  );
  return hold === undefined ? null : onHold(hold.id, hold.reason);
}

function onHold(holdId: string, reason: HoldReason): ApiError {
  return new ApiError(
    403,
    'PAYMENTS_ON_HOLD',
    `Payment links are on hold because ${holdWords(reason)}. A manager can release the hold.`,
    { holdId, reason },
  );
}

function needsApproval(holdId: string, reason: HoldReason): ApiError {
  return new ApiError(
    403,
    'PAYMENT_NEEDS_APPROVAL',
    `A manager must approve this request first: ${holdWords(reason)}. Once they release the hold, send it again.`,
    { holdId, reason },
  );
}

async function dailyTotalRefusal(tx: Queryable, input: GuardInput): Promise<ApiError | null> {
  const [row] = await tx.query<{ used: string | number }>(
    `SELECT coalesce(sum(amount_minor), 0) AS used FROM payment_requests
      WHERE org_id = $1 AND ${REP_SQL} AND currency = $4 AND created_at > $5 AND status <> 'canceled'`,
    [input.orgId, input.rep.userId, input.rep.keyId, input.currency, new Date(input.now.getTime() - DAY_MS)],
  );
  const used = Number(row?.used ?? 0);
  const limit = input.settings.repDailyMaxMinor;
  if (used + input.amountMinor <= limit) return null;
  return new ApiError(
    422,
    'DAILY_LIMIT_REACHED',
    `You may ask for at most ${limit} (minor units of ${input.currency.toUpperCase()}) within 24 hours; ${used} is already asked for.`,
    { limitMinor: limit, usedMinor: used, currency: input.currency },
  );
}

/** Many links from one rep within an hour, or to one number within a day: a hold, then a refusal. */
async function patternRefusal(tx: Queryable, input: GuardInput): Promise<ApiError | null> {
  const { settings, now } = input;
  // Links before a manager released such a hold were looked at: counting starts again after it.
  const [counts] = await tx.query<{ rep_hour: number; number_day: number }>(
    `WITH rep_from AS (
       SELECT greatest($5::timestamptz, max(released_at)) AS at FROM payment_holds
        WHERE org_id = $1 AND reason = 'links_per_hour' AND ${HOLD_REP_SQL}),
     number_from AS (
       SELECT greatest($6::timestamptz, max(released_at)) AS at FROM payment_holds
        WHERE org_id = $1 AND reason = 'repeat_number' AND phone_e164 = $4)
     SELECT (SELECT count(*)::int FROM payment_requests
               WHERE org_id = $1 AND ${REP_SQL} AND created_at > (SELECT at FROM rep_from)) AS rep_hour,
            (SELECT count(*)::int FROM payment_requests
               WHERE org_id = $1 AND to_e164 = $4 AND created_at > (SELECT at FROM number_from)) AS number_day`,
    [
      input.orgId,
      input.rep.userId,
      input.rep.keyId,
      phoneToken(tx, input.phone),
      new Date(now.getTime() - HOUR_MS),
      new Date(now.getTime() - DAY_MS),
    ],
  );
  if ((counts?.rep_hour ?? 0) >= settings.holdLinksPerHour) {
    const id = await insertHold(tx, input, 'links_per_hour', { linksInHour: counts?.rep_hour });
    return onHold(id, 'links_per_hour');
  }
  if ((counts?.number_day ?? 0) >= settings.holdLinksPerNumberPerDay) {
    const id = await insertHold(tx, input, 'repeat_number', { linksInDay: counts?.number_day });
    return onHold(id, 'repeat_number');
  }
  return null;
}

/**
 * A large amount to a number that never texted in, or one far above the rep's usual: the request
 * waits for a manager, unless one approved this rep asking this customer for as much within a day.
 */
async function approvalRefusal(tx: Queryable, input: GuardInput): Promise<ApiError | null> {
  const reason = await approvalReason(tx, input);
  if (reason === null) return null;
  const [approved] = await tx.query<{ id: string }>(
    `SELECT id FROM payment_holds
      WHERE org_id = $1 AND ${HOLD_REP_SQL} AND phone_e164 = $4 AND reason IN ('unknown_number', 'unusual_amount')
        AND released_at > $5 AND amount_minor >= $6 AND currency = $7 LIMIT 1`,
    [
      input.orgId,
      input.rep.userId,
      input.rep.keyId,
      phoneToken(tx, input.phone),
      new Date(input.now.getTime() - DAY_MS),
      input.amountMinor,
      input.currency,
    ],
  );
  if (approved !== undefined) return null;
  const [waiting] = await tx.query<{ id: string }>(
    `SELECT id FROM payment_holds
      WHERE org_id = $1 AND ${HOLD_REP_SQL} AND phone_e164 = $4 AND reason = $5 AND released_at IS NULL LIMIT 1`,
    [input.orgId, input.rep.userId, input.rep.keyId, phoneToken(tx, input.phone), reason.reason],
  );
  const id = waiting?.id ?? (await insertHold(tx, input, reason.reason, reason.detail));
  return needsApproval(id, reason.reason);
}

async function approvalReason(
  tx: Queryable,
  input: GuardInput,
): Promise<{ reason: HoldReason; detail: Record<string, unknown> } | null> {
  const { settings } = input;
  const threshold = settings.holdUnknownNumberAboveMinor;
  if (threshold !== null && input.amountMinor > threshold) {
    const [texted] = await tx.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM conversations c JOIN messages m ON m.conversation_id = c.id
                       WHERE c.org_id = $1 AND c.contact_phone = $2 AND m.direction = 'inbound') AS found`,
      [input.orgId, phoneToken(tx, input.phone)],
    );
    if (texted?.found !== true) return { reason: 'unknown_number', detail: { thresholdMinor: threshold } };
  }
  const recent = await tx.query<{ amount_minor: string | number }>(
    `SELECT amount_minor FROM payment_requests WHERE org_id = $1 AND ${REP_SQL} AND currency = $4
      ORDER BY created_at DESC LIMIT 20`,
    [input.orgId, input.rep.userId, input.rep.keyId, input.currency],
  );
  if (recent.length < 5) return null;
  const sorted = recent.map((r) => Number(r.amount_minor)).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  if (input.amountMinor <= median * settings.holdUnusualAmountFactor) return null;
  return {
    reason: 'unusual_amount',
    detail: { usualMinor: median, factor: settings.holdUnusualAmountFactor },
  };
}

async function insertHold(
  tx: Queryable,
  input: GuardInput,
  reason: HoldReason,
  detail: Record<string, unknown>,
): Promise<string> {
  const id = newId();
  await tx.query(
    `INSERT INTO payment_holds (id, org_id, reason, rep_user_id, rep_key_id, phone_e164, amount_minor, currency, detail, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      id,
      input.orgId,
      reason,
      input.rep.userId,
      input.rep.keyId,
      phoneToken(tx, input.phone),
      input.amountMinor,
      input.currency,
      JSON.stringify(detail),
      input.now,
    ],
  );
  return id;
}

/** A hold on one link: card testing. The link stops taking payment until a manager releases it. */
export async function holdRequest(
  tx: Queryable,
  request: { id: string; org_id: string; to_e164: string | null },
  reason: HoldReason,
  detail: Record<string, unknown>,
  now: Date,
): Promise<string | null> {
  const [open] = await tx.query<{ id: string }>(
    'SELECT id FROM payment_holds WHERE request_id = $1 AND released_at IS NULL LIMIT 1',
    [request.id],
  );
  if (open !== undefined) return null;
  const id = newId();
  await tx.query(
    `INSERT INTO payment_holds (id, org_id, reason, phone_e164, request_id, detail, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      id,
      request.org_id,
      reason,
      phoneTokenOrNull(tx, request.to_e164),
      request.id,
      JSON.stringify(detail),
      now,
    ],
  );
  return id;
}

/** Whether a link is held (card testing) and so takes no payment. */
export async function requestHeld(db: Queryable, requestId: string): Promise<boolean> {
  const [row] = await db.query<{ held: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM payment_holds WHERE request_id = $1 AND released_at IS NULL) AS held',
    [requestId],
  );
  return row?.held === true;
}

/**
 * Step-up: above the org's threshold the rep proves an authenticator code again (POST
 * /v1/auth/reauth with a code) within five minutes. An API key proves nothing about a person, so
 * it cannot ask for such an amount.
 */
export async function requireStepUp(
  db: Queryable,
  p: Principal,
  settings: PaymentSettings,
  amountMinor: number,
  now: Date,
): Promise<void> {
  const threshold = settings.stepUpAboveMinor;
  if (threshold === null || amountMinor <= threshold) return;
  const details = {
    thresholdMinor: threshold,
    reauthUrl: '/v1/auth/reauth',
    withinSeconds: STEP_UP_MS / 1000,
  };
  if (p.sessionId === null)
    throw new ApiError(
      403,
      'STEP_UP_REQUIRED',
      `Requests above ${threshold} (minor units) need a signed-in person who confirms an authenticator code, not an API key.`,
      details,
    );
  const [row] = await db.query<{ second_factor_at: Date | null }>(
    'SELECT second_factor_at FROM auth_sessions WHERE id = $1',
    [p.sessionId],
  );
  const at = row?.second_factor_at ?? null;
  if (at === null || now.getTime() - new Date(at).getTime() > STEP_UP_MS)
    throw new ApiError(
      403,
      'STEP_UP_REQUIRED',
      `Requests above ${threshold} (minor units) need a fresh authenticator code: confirm one (POST /v1/auth/reauth with your code), then send again within 5 minutes.`,
      details,
    );
}

const STEP_UP_MS = 5 * 60_000;
