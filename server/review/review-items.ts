import { appendAudit } from '../audit/audit-log.ts';
import type { OutboundDecision } from '../compliance/decide.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { ApiError as RefusalError } from '../errors.ts';
import { ApiError } from '../errors.ts';
import { afterPageCursor, nextPageCursor } from '../http/page-cursor.ts';
import { newId } from '../ids.ts';
import { refusalError } from '../sending-check/outbound-check.ts';
import { decideReviewIn, failQueuedAfterOptOut, recordConsent } from '../stores/consent-store.ts';
import { closeOptInRequest } from '../stores/opt-in-requests.ts';
import { phoneNumber, phoneNumberOrNull, phoneToken, phoneTokenOrNull } from '../stores/phone-columns.ts';

/** What put an item in the review queue (042_review_queue.sql). */
export type ReviewKind =
  | 'refused_send'
  | 'override'
  | 'redaction'
  | 'unclear_reply'
  | 'escalation'
  | 'sample';
export type ReviewDecision = 'ok' | 'coach' | 'opt_out' | 'escalate';
export type ReviewStatus = 'open' | 'escalated' | 'closed';

export interface FlaggedItem {
  orgId: string;
  kind: ReviewKind;
  /** What happened, in words or a stable code (OPTED_OUT, quiet_hours_exception…); never a text's body. */
  reason: string;
  /** What makes two flags the same occasion: a repeat while open counts, it does not add a row. */
  dedupeKey: string;
  conversationId?: string | null;
  messageId?: string | null;
  /** The rep concerned, when a person (not an API key) acted. */
  userId?: string | null;
  /** Who acted, as the audit log names them (user:…, api-key:…, customer). */
  actor?: string | null;
  phone?: string | null;
  /** The record it stands for (an unclear reply's consent review). */
  sourceId?: string | null;
  /** The relay's clock. */
  at: Date;
}

/** Puts an item in the queue, in the caller's transaction; a repeat of an open one adds to its occurrences. */
export async function flagForReview(tx: Queryable, item: FlaggedItem): Promise<void> {
  await tx.query(
    `INSERT INTO review_items (id, org_id, kind, reason, dedupe_key, conversation_id, message_id, user_id, actor,
                               phone_e164, source_id, created_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
     ON CONFLICT (org_id, kind, dedupe_key) WHERE status <> 'closed'
     DO UPDATE SET occurrences = review_items.occurrences + 1,
                   last_seen_at = greatest(review_items.last_seen_at, EXCLUDED.last_seen_at)`,
    [
      newId(),
      item.orgId,
      item.kind,
      item.reason,
      item.dedupeKey,
      item.conversationId ?? null,
      item.messageId ?? null,
      item.userId ?? null,
      item.actor ?? null,
      phoneTokenOrNull(tx, item.phone),
      item.sourceId ?? null,
      item.at,
    ],
  );
}

interface ItemRow {
  id: string;
  kind: ReviewKind;
  reason: string;
  conversation_id: string | null;
  message_id: string | null;
  user_id: string | null;
  rep_name: string | null;
  actor: string | null;
  phone_e164: string | null;
  source_id: string | null;
  occurrences: number;
  created_at: Date;
  last_seen_at: Date;
  status: ReviewStatus;
  decision: ReviewDecision | null;
  note: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  cursor_at: string;
}

const ITEM_SELECT = `SELECT r.id, r.kind, r.reason, r.conversation_id, r.message_id, r.user_id,
       coalesce(u.display_name, u.email) AS rep_name, r.actor, r.phone_e164, r.source_id, r.occurrences,
       r.created_at, r.last_seen_at, r.status, r.decision, r.note, r.decided_by, r.decided_at,
       r.created_at::text AS cursor_at
  FROM review_items r LEFT JOIN users u ON u.id = r.user_id`;

/** A row with its customer's number opened (stored as a token, phone-tokens.ts). */
const openItem = (q: Queryable, row: ItemRow): ItemRow => ({
  ...row,
  phone_e164: phoneNumberOrNull(q, row.phone_e164),
});

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

export function reviewItemDto(row: ItemRow) {
  return {
    id: row.id,
    kind: row.kind,
    reason: row.reason,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    rep: row.user_id === null ? null : { userId: row.user_id, name: row.rep_name },
    actor: row.actor,
    phone: row.phone_e164,
    occurrences: Number(row.occurrences),
    createdAt: new Date(row.created_at).toISOString(),
    lastSeenAt: new Date(row.last_seen_at).toISOString(),
    status: row.status,
    decision: row.decision,
    note: row.note,
    decidedBy: row.decided_by,
    decidedAt: iso(row.decided_at),
  };
}
export type ReviewItemDto = ReturnType<typeof reviewItemDto>;

/** The org's queue, newest first, in one status (open by default), optionally of one kind. */
export async function listReviewItems(
  db: Queryable,
  orgId: string,
  q: { status: ReviewStatus | 'all'; kind: ReviewKind | null; cursor: string | null; limit: number },
): Promise<{ items: ReviewItemDto[]; nextCursor: string | null }> {
  const [afterAt, afterId] = afterPageCursor(q.cursor);
  const rows = await db.query<ItemRow>(
    `${ITEM_SELECT}
      WHERE r.org_id = $1 AND ($2::text = 'all' OR r.status = $2) AND ($3::text IS NULL OR r.kind = $3)
        AND ($4::timestamptz IS NULL OR (r.created_at, r.id) < ($4::timestamptz, $5::uuid))
      ORDER BY r.created_at DESC, r.id DESC LIMIT $6`,
    [orgId, q.status, q.kind, afterAt, afterId, q.limit + 1],
  );
  const items = rows.slice(0, q.limit).map((row) => reviewItemDto(openItem(db, row)));
  return { items, nextCursor: nextPageCursor(rows, q.limit) };
}

export interface DecisionInput {
  orgId: string;
  itemId: string;
  decision: ReviewDecision;
  note: string | null;
  actor: string;
  at: Date;
  ip?: string;
}

/**
 * A reviewer's decision, audited (review.decided). ok and coach close the item (coach keeps the
 * note for the rep's coaching); opt_out records the customer's opt-out in the ledger (an unclear
 * reply's own review is decided with it) and closes it; escalate leaves it open as escalated, for
 * a second decision. Refusals change nothing: REVIEW_ITEM_NOT_FOUND, REVIEW_ITEM_CLOSED,
 * REVIEW_NOTE_REQUIRED (coach and escalate say why), REVIEW_NO_PHONE (opt_out without a number).
 */
export async function decideReviewItem(db: Database, input: DecisionInput): Promise<ReviewItemDto> {
  if ((input.decision === 'coach' || input.decision === 'escalate') && input.note === null)
    throw new ApiError(
      400,
      'REVIEW_NOTE_REQUIRED',
      `A ${input.decision} decision needs a note: what the rep should do differently, or why it goes higher.`,
    );
  const row = await db.transaction(async (tx) => {
    // The consent lock before the item's row lock, the order the consent-review route takes them in.
    const [phone] = await tx.query<{ phone_e164: string | null }>(
      'SELECT phone_e164 FROM review_items WHERE id = $1 AND org_id = $2',
      [input.itemId, input.orgId],
    );
    if (phone?.phone_e164 != null)
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `consent:${input.orgId}:${phoneNumber(tx, phone.phone_e164)}`,
      ]);
    const [locked] = await tx.query<ItemRow>(
      `${ITEM_SELECT} WHERE r.id = $1 AND r.org_id = $2 FOR UPDATE OF r`,
      [input.itemId, input.orgId],
    );
    const item = locked === undefined ? undefined : openItem(tx, locked);
    if (item === undefined)
      throw new ApiError(404, 'REVIEW_ITEM_NOT_FOUND', 'No such review item in your organisation.');
    if (item.status === 'closed')
      throw new ApiError(
        409,
        'REVIEW_ITEM_CLOSED',
        `This item was already decided (${item.decision ?? 'closed'}).`,
      );
    // An unclear reply's pause is its consent review's: decided with the item (ok and coach lift it).
    const reply =
      item.kind === 'unclear_reply' && item.source_id !== null && input.decision !== 'escalate'
        ? await decideReviewIn(tx, {
            orgId: input.orgId,
            id: item.source_id,
            decision: input.decision === 'opt_out' ? 'opt_out' : 'keep',
            actor: input.actor,
            note: input.note,
            at: input.at,
          })
        : null;
    if (input.decision === 'opt_out' && reply?.kind !== 'decided') await optOutFrom(tx, item, input);
    const status: ReviewStatus = input.decision === 'escalate' ? 'escalated' : 'closed';
    await tx.query(
      `UPDATE review_items SET status = $2, decision = $3, note = $4, decided_by = $5, decided_at = $6 WHERE id = $1`,
      [item.id, status, input.decision, input.note, input.actor, input.at],
    );
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'review.decided',
      target: { type: 'review_item', id: item.id },
      at: input.at,
      ip: input.ip,
      before: { status: item.status, decision: item.decision },
      after: { status, decision: input.decision },
      detail: { kind: item.kind, reason: item.reason, note: input.note },
    });
    return item;
  });
  const [decided] = await db.query<ItemRow>(`${ITEM_SELECT} WHERE r.id = $1`, [row.id]);
  if (decided === undefined) throw new Error('a decided review item vanished');
  return reviewItemDto(openItem(db, decided));
}

/** The customer asked not to be texted, as the reviewer reads it: into the ledger, queued texts failed. */
async function optOutFrom(tx: Queryable, item: ItemRow, input: DecisionInput): Promise<void> {
  if (item.phone_e164 === null)
    throw new ApiError(422, 'REVIEW_NO_PHONE', 'This item names no customer number to opt out.');
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${input.orgId}:${item.phone_e164}`]);
  await recordConsent(tx, {
    orgId: input.orgId,
    phone: item.phone_e164,
    kind: 'opt_out',
    source: 'review',
    evidence: `Review of ${item.kind.replace('_', ' ')} (${item.reason})${input.note === null ? '' : `: ${input.note}`}`,
    actor: input.actor,
    messageId: item.message_id,
    classification: `reviewer decided an opt-out (review item ${item.id})`,
    at: input.at,
  });
  await failQueuedAfterOptOut(tx, input.orgId, item.phone_e164);
  await closeOptInRequest(tx, input.orgId, item.phone_e164, { status: 'superseded' });
}

/**
 * A send the rules refused goes to the queue: one item per person (or key), number, refusal code
 * and UTC day, its occurrences counting the attempts. `what` names the kind of send when it is
 * not a conversation text (a payment request).
 */
export async function flagRefusedSend(
  db: Queryable,
  input: {
    principal: { orgId: string; userId: string | null; actor: string };
    to: string;
    codes: string[];
    what?: string;
    at: Date;
  },
): Promise<void> {
  const codes = [...new Set(input.codes)].join(', ');
  const day = input.at.toISOString().slice(0, 10);
  await flagForReview(db, {
    orgId: input.principal.orgId,
    kind: 'refused_send',
    reason: input.what === undefined ? codes : `${input.what}: ${codes}`,
    // The number as its token: the key is stored, and tokens are as distinct as numbers.
    dedupeKey: `${input.principal.actor}:${phoneToken(db, input.to)}:${input.what ?? 'text'}:${codes}:${day}`,
    userId: input.principal.userId,
    actor: input.principal.actor,
    phone: input.to,
    at: input.at,
  });
}

/** A send the rules refused, flagged for review (flagRefusedSend); answers the refusal to throw. */
export async function refusedSend(
  db: Queryable,
  principal: { orgId: string; userId: string | null; actor: string },
  checked: { to: string; now: Date; decision: OutboundDecision },
  what?: string,
): Promise<RefusalError> {
  await flagRefusedSend(db, {
    principal,
    to: checked.to,
    codes: checked.decision.refusals.map((r) => r.code),
    ...(what === undefined ? {} : { what }),
    at: checked.now,
  });
  return refusalError(checked.decision);
}
