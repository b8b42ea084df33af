import { AUTH_DEFAULTS, AUTH_TIMEOUT_RANGES, type OrgAuthSettings } from '../auth/auth-settings.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/**
 * The identity policies an admin sets as `auth.<name>` (`org settings --set auth.requireSecondFactor
 * --value true`): kept together under `orgs.settings.auth`, where sign-in and refresh read them.
 */
export const AUTH_SETTING_NAMES = Object.keys(AUTH_DEFAULTS).map((name) => `auth.${name}`);

const invalid = (message: string) => new ApiError(400, 'INVALID_SETTING', message);

/** Whether `key` names an identity policy (`auth.…`), known or not. */
export function isAuthSettingKey(key: string): boolean {
  return key.startsWith('auth.');
}

/** The stored value of `auth.<name>` from the CLI's text, or a clear refusal. */
function authValue(name: keyof OrgAuthSettings, raw: string): boolean | number {
  if (name === 'idleTimeoutMinutes' || name === 'absoluteTimeoutHours') {
    const { min, max } = AUTH_TIMEOUT_RANGES[name];
    const value = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max))
      throw invalid(`auth.${name} must be a whole number from ${min} to ${max}; got "${raw}".`);
    return value;
  }
  if (raw !== 'true' && raw !== 'false') throw invalid(`auth.${name} must be true or false; got "${raw}".`);
  return raw === 'true';
}

/** Sets (or with `raw` null, removes, back to its default) one identity policy of the org. */
export async function setAuthSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<void> {
  const name = key.slice('auth.'.length);
  if (!Object.hasOwn(AUTH_DEFAULTS, name))
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; identity policies: ${AUTH_SETTING_NAMES.join(', ')}.`,
    );
  if (raw === null) {
    await db.query(`UPDATE orgs SET settings = settings #- ARRAY['auth', $2::text] WHERE id = $1`, [
      orgId,
      name,
    ]);
    return;
  }
  const value = authValue(name as keyof OrgAuthSettings, raw);
  await db.query(
    `UPDATE orgs
        SET settings = settings || jsonb_build_object('auth',
              CASE WHEN jsonb_typeof(settings->'auth') = 'object' THEN settings->'auth' ELSE '{}'::jsonb END
              || jsonb_build_object($2::text, $3::jsonb))
      WHERE id = $1`,
    [orgId, name, JSON.stringify(value)],
  );
}
