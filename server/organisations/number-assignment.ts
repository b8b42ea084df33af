import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { orgPowerpackUuid } from '../providers/plivo-org-settings.ts';
import { orgCount } from './org-admin.ts';

/**
 * Who may register a sender number on this relay. The provider account holding a number proves the
 * relay may send from it, not which organisation rents it: on a relay several organisations share
 * on one Plivo account, an org admin must prove the number is their organisation's (its own Plivo
 * Powerpack holds it), otherwise the relay's operator assigns it (`npm run cli -- number add`).
 */

/** Who registers the number: the relay's operator (the CLI, trusted) or an organisation's admin (HTTP). */
export type AssignedBy = 'operator' | 'org-admin';

export interface Assignment {
  assignedBy: AssignedBy;
  /** The relay-wide Powerpack (PLIVO_POWERPACK_UUID): shared by every organisation, so proof of none. */
  relayPowerpackUuid?: string | null;
}

const ASSIGNED_BY_OPERATOR_MESSAGE =
  "On a relay shared by several organisations, the relay's operator assigns sender numbers (npm run cli -- number add), unless your organisation has its own Plivo Powerpack holding the number (set plivoPowerpackUuid in your organisation's settings).";

/** The organisation's Powerpack as its sends read it, unless another organisation or the relay shares it. */
async function ownPowerpack(
  db: Queryable,
  orgId: string,
  relayPowerpack: string | null,
): Promise<string | null> {
  const uuid = await orgPowerpackUuid(db, orgId);
  if (uuid === null || uuid.trim() === '') return null;
  if (relayPowerpack !== null && uuid.trim().toLowerCase() === relayPowerpack.trim().toLowerCase())
    return null;
  const shared = await db.query<{ one: number }>(
    `SELECT 1 AS one FROM orgs
      WHERE id <> $1 AND lower(btrim(settings->>'plivoPowerpackUuid')) = lower(btrim($2)) LIMIT 1`,
    [orgId, uuid],
  );
  return shared.length === 0 ? uuid : null;
}

/**
 * The Powerpack the number must be in before this registration may go on; null when the provider's
 * account check is enough (the operator, or a relay of one organisation, counted now). Throws 409
 * NUMBER_ASSIGNED_BY_OPERATOR when an org admin has no Powerpack of its own to prove it with: called
 * before anything about the number is looked up, so the refusal tells nothing about it.
 */
export async function powerpackToProve(
  db: Queryable,
  orgId: string,
  assignment: Assignment,
): Promise<string | null> {
  if (assignment.assignedBy === 'operator') return null;
  if ((await orgCount(db)) <= 1) return null;
  const powerpack = await ownPowerpack(db, orgId, assignment.relayPowerpackUuid ?? null);
  if (powerpack === null)
    throw new ApiError(409, 'NUMBER_ASSIGNED_BY_OPERATOR', ASSIGNED_BY_OPERATOR_MESSAGE, {
      setting: 'plivoPowerpackUuid',
    });
  return powerpack;
}
