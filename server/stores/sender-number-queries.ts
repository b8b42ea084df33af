import type { SenderNumber, SenderNumberType } from '../../contract/numbers.ts';
import type { Queryable } from '../db/database.ts';

interface SenderNumberRow {
  id: string;
  e164: string;
  label: string | null;
  number_type: SenderNumberType;
  default_assignee_user_id: string | null;
}

const COLUMNS = 'id, e164, label, number_type, default_assignee_user_id::text AS default_assignee_user_id';

const ONE = `SELECT ${COLUMNS} FROM sender_numbers WHERE id = $1 AND org_id = $2`;
const ONE_FOR_UPDATE = `${ONE} FOR UPDATE`;

function toSenderNumber(r: SenderNumberRow): SenderNumber {
  return {
    id: r.id,
    e164: r.e164,
    label: r.label,
    numberType: r.number_type,
    defaultAssigneeUserId: r.default_assignee_user_id,
  };
}

/** The organisation's sender numbers, oldest first. */
export async function listSenderNumbers(db: Queryable, orgId: string): Promise<SenderNumber[]> {
  const rows = await db.query<SenderNumberRow>(
    `SELECT ${COLUMNS} FROM sender_numbers WHERE org_id = $1 ORDER BY created_at, e164`,
    [orgId],
  );
  return rows.map(toSenderNumber);
}

/**
 * One sender number of the organisation, or null (also for another organisation's number).
 * `forUpdate` locks the row for the rest of the caller's transaction.
 */
export async function senderNumberOf(
  db: Queryable,
  orgId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<SenderNumber | null> {
  const rows = await db.query<SenderNumberRow>(options.forUpdate === true ? ONE_FOR_UPDATE : ONE, [
    id,
    orgId,
  ]);
  const row = rows[0];
  return row === undefined ? null : toSenderNumber(row);
}

/** Whether any organisation has registered the number. */
export async function senderNumberRegistered(db: Queryable, e164: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM sender_numbers WHERE e164 = $1', [e164]);
  return rows.length > 0;
}
