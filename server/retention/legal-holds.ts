import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { type Database, type Queryable, withinTransaction } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { maskPhone } from '../phone.ts';
import { phoneNumber, phoneToken } from '../stores/phone-columns.ts';

/** A legal hold as the API and the CLI show it. */
export interface LegalHold {
  id: string;
  target: { type: 'phone'; phone: string } | { type: 'conversation'; conversationId: string };
  reason: string;
  createdBy: string;
  createdAt: string;
  releasedBy: string | null;
  releasedAt: string | null;
}

/** What to hold: every conversation with one contact phone, or one conversation. */
export type HoldTarget = { type: 'phone'; phone: string } | { type: 'conversation'; conversationId: string };

interface HoldRow {
  id: string;
  target_type: 'phone' | 'conversation';
  phone_e164: string | null;
  conversation_id: string | null;
  reason: string;
  created_by: string;
  created_at: Date;
  released_by: string | null;
  released_at: Date | null;
}

const MAX_REASON = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The key of the transaction-level advisory lock between holds and purges of one org: a purge
 * batch takes it shared, placing a hold takes it exclusive, so a hold waits for the batch in
 * flight and the next batch sees it (no batch deletes what a hold committed meanwhile covers).
 */
export const HOLD_LOCK_SQL = `hashtextextended('legal_holds:' || $1::text, 0)`;

function holdDto(q: Queryable, row: HoldRow): LegalHold {
  return {
    id: row.id,
    target:
      row.target_type === 'phone'
        ? { type: 'phone', phone: phoneNumber(q, row.phone_e164 ?? '') }
        : { type: 'conversation', conversationId: row.conversation_id ?? '' },
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    releasedBy: row.released_by,
    releasedAt: row.released_at?.toISOString() ?? null,
  };
}

/** A hold's target as the audit log keeps it: the number masked, like every number there. */
const auditedTarget = (target: LegalHold['target']): LegalHold['target'] =>
  target.type === 'phone' ? { type: 'phone', phone: maskPhone(target.phone) } : target;

const HOLD_COLUMNS =
  'id, target_type, phone_e164, conversation_id, reason, created_by, created_at, released_by, released_at';

/** Places a hold (audited as `legal_hold.placed`); a conversation must be the org's own. */
export async function placeHold(
  db: Database,
  input: { orgId: string; target: HoldTarget; reason: string; actor: string; at: Date; ip?: string | null },
): Promise<LegalHold> {
  const reason = input.reason.trim();
  if (reason === '' || reason.length > MAX_REASON)
    throw new ApiError(400, 'INVALID_HOLD', `reason must be 1 to ${MAX_REASON} characters.`, {
      field: 'reason',
    });
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${HOLD_LOCK_SQL})`, [input.orgId]);
    const { target } = input;
    if (target.type === 'conversation') {
      const found = await tx.query('SELECT 1 FROM conversations WHERE id = $1 AND org_id = $2', [
        target.conversationId,
        input.orgId,
      ]);
      if (found.length === 0)
        throw new ApiError(
          404,
          'CONVERSATION_NOT_FOUND',
          'No conversation of this organisation has that id.',
        );
    }
    const [row] = await tx.query<HoldRow>(
      `INSERT INTO legal_holds (id, org_id, target_type, phone_e164, conversation_id, reason, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${HOLD_COLUMNS}`,
      [
        randomUUID(),
        input.orgId,
        target.type,
        target.type === 'phone' ? phoneToken(tx, target.phone) : null,
        target.type === 'conversation' ? target.conversationId : null,
        reason,
        input.actor,
        input.at,
      ],
    );
    if (row === undefined) throw new Error('legal hold insert returned no row');
    const hold = holdDto(tx, row);
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'legal_hold.placed',
      target: { type: 'legal_hold', id: hold.id },
      at: input.at,
      after: { target: auditedTarget(hold.target), reason },
      ip: input.ip ?? null,
    });
    return hold;
  });
}

/** The org's holds, newest first; `active` leaves out released ones. */
export async function listHolds(db: Queryable, orgId: string, active: boolean): Promise<LegalHold[]> {
  const rows = await db.query<HoldRow>(
    `SELECT ${HOLD_COLUMNS} FROM legal_holds
      WHERE org_id = $1 AND ($2::boolean IS FALSE OR released_at IS NULL)
      ORDER BY created_at DESC, id DESC LIMIT 1000`,
    [orgId, active],
  );
  return rows.map((row) => holdDto(db, row));
}

/** Releases an active hold (audited as `legal_hold.released`); the next purge may then reach its data. */
export async function releaseHold(
  db: Queryable,
  input: { orgId: string; holdId: string; actor: string; at: Date; ip?: string | null },
): Promise<LegalHold> {
  if (!UUID.test(input.holdId))
    throw new ApiError(404, 'HOLD_NOT_FOUND', 'No legal hold of this organisation has that id.');
  return withinTransaction(db, async (tx) => {
    const [current] = await tx.query<HoldRow>(
      `SELECT ${HOLD_COLUMNS} FROM legal_holds WHERE id = $1 AND org_id = $2 FOR UPDATE`,
      [input.holdId, input.orgId],
    );
    if (current === undefined)
      throw new ApiError(404, 'HOLD_NOT_FOUND', 'No legal hold of this organisation has that id.');
    if (current.released_at !== null)
      throw new ApiError(409, 'HOLD_ALREADY_RELEASED', 'This legal hold was already released.', {
        releasedAt: current.released_at.toISOString(),
      });
    const [row] = await tx.query<HoldRow>(
      `UPDATE legal_holds SET released_by = $3, released_at = $4 WHERE id = $1 AND org_id = $2
       RETURNING ${HOLD_COLUMNS}`,
      [input.holdId, input.orgId, input.actor, input.at],
    );
    if (row === undefined) throw new Error('legal hold vanished while locked');
    const hold = holdDto(tx, row);
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'legal_hold.released',
      target: { type: 'legal_hold', id: hold.id },
      at: input.at,
      before: { releasedAt: null },
      after: { releasedAt: hold.releasedAt },
      detail: { target: auditedTarget(hold.target), reason: hold.reason },
      ip: input.ip ?? null,
    });
    return hold;
  });
}
