import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { requireOrg } from './org-admin.ts';

/** The org settings an admin may set, with the JSON type each must have. */
export const ORG_SETTING_TYPES = {
  identificationName: 'string',
  helpReply: 'string',
  optOutReply: 'string',
  optInReply: 'string',
  cardWarningReply: 'string',
  optInRequest: 'string',
  phiAllowed: 'boolean',
  doubleOptIn: 'boolean',
  reintroduceAfterDays: 'number',
  quietHoursReplyWindowMinutes: 'number',
  plivoPowerpackUuid: 'string',
} as const;
export type OrgSettingKey = keyof typeof ORG_SETTING_TYPES;

function isKey(key: string): key is OrgSettingKey {
  return Object.hasOwn(ORG_SETTING_TYPES, key);
}

/** Sets (or with value null, removes) one org setting after checking its name and type. */
export async function setOrgSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<unknown> {
  await requireOrg(db, orgId);
  if (!isKey(key)) {
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; known: ${Object.keys(ORG_SETTING_TYPES).join(', ')}.`,
    );
  }
  if (raw === null) {
    await db.query('UPDATE orgs SET settings = settings - $2 WHERE id = $1', [orgId, key]);
    return readOrgSettings(db, orgId);
  }
  const type = ORG_SETTING_TYPES[key];
  let value: unknown = raw;
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false')
      throw new ApiError(400, 'INVALID_SETTING', `${key} must be true or false.`);
    value = raw === 'true';
  } else if (type === 'number') {
    if (!/^\d{1,4}$/.test(raw)) throw new ApiError(400, 'INVALID_SETTING', `${key} must be a whole number.`);
    value = Number(raw);
  } else if (raw.trim() === '' || raw.length > 480) {
    throw new ApiError(400, 'INVALID_SETTING', `${key} must be 1 to 480 characters.`);
  }
  await db.query('UPDATE orgs SET settings = jsonb_set(settings, ARRAY[$2::text], $3::jsonb) WHERE id = $1', [
    orgId,
    key,
    JSON.stringify(value),
  ]);
  return readOrgSettings(db, orgId);
}

export async function readOrgSettings(db: Queryable, orgId: string): Promise<unknown> {
  const rows = await db.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [orgId]);
  return rows[0]?.settings ?? {};
}
