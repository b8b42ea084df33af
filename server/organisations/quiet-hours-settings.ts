import {
  checkDays,
  checkEmergencyStates,
  checkWindow,
  type SettingCheck,
} from '../compliance/org-quiet-hours.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/**
 * The org's quiet-hours policy, set as `quietHours.<name>` (`org settings --set quietHours.window
 * --value 09:00-18:00`) and kept together under `orgs.settings.quietHours`, where the send path's
 * one read and the outbox worker's re-check find it (server/compliance/org-quiet-hours.ts).
 * A compliance setting like the others: org.manage, audited as settings.changed, no recent sign-in.
 */
const CHECKS: Record<string, (raw: string) => SettingCheck> = {
  window: checkWindow,
  days: checkDays,
  emergencyStates: checkEmergencyStates,
};

export const QUIET_HOURS_SETTING_NAMES = Object.keys(CHECKS).map((name) => `quietHours.${name}`);

/** Whether `key` names a quiet-hours policy setting (`quietHours.…`), known or not. */
export function isQuietHoursSettingKey(key: string): boolean {
  return key.startsWith('quietHours.');
}

/** Sets (or with `raw` null, removes: the law's hours only) one part of the org's quiet-hours policy. */
export async function setQuietHoursSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<void> {
  const name = key.slice('quietHours.'.length);
  const check = Object.hasOwn(CHECKS, name) ? CHECKS[name] : undefined;
  if (check === undefined)
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; the quiet-hours policy: ${QUIET_HOURS_SETTING_NAMES.join(', ')}.`,
    );
  if (raw === null) {
    await db.query(`UPDATE orgs SET settings = settings #- ARRAY['quietHours', $2::text] WHERE id = $1`, [
      orgId,
      name,
    ]);
    return;
  }
  const checked = check(raw);
  if (!checked.ok) throw new ApiError(400, 'INVALID_SETTING', checked.problem, checked.details);
  await db.query(
    `UPDATE orgs
        SET settings = settings || jsonb_build_object('quietHours',
              CASE WHEN jsonb_typeof(settings->'quietHours') = 'object' THEN settings->'quietHours' ELSE '{}'::jsonb END
              || jsonb_build_object($2::text, $3::text))
      WHERE id = $1`,
    [orgId, name, checked.value],
  );
}
