import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/**
 * The org's retention policy, set as `retention.<name>` (`org settings --set
 * retention.messageBodyDays --value 90`) and kept together under `orgs.settings.retention`.
 * Unset means keep forever; the purge job (server/retention/purge.ts) reads it each run.
 */
export interface RetentionPolicy {
  /** Message bodies older than this many days are blanked; null: kept. */
  messageBodyDays: number | null;
  /** Messages (with their status history and jobs) older than this many days are deleted; null: kept. */
  metadataDays: number | null;
  /** Purged bodies are also rewritten on the CRM timeline entries the relay logged. */
  purgeCrmCopy: boolean;
}

/** The longest period a policy may name: ten years (beyond that, "keep forever" is the honest setting). */
export const MAX_RETENTION_DAYS = 3650;

export const RETENTION_SETTING_NAMES = ['messageBodyDays', 'metadataDays', 'purgeCrmCopy'].map(
  (name) => `retention.${name}`,
);

const invalid = (message: string, details?: Record<string, unknown>) =>
  new ApiError(400, 'INVALID_SETTING', message, details);

/** Whether `key` names a retention setting (`retention.…`), known or not. */
export function isRetentionSettingKey(key: string): boolean {
  return key.startsWith('retention.');
}

function asDays(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_RETENTION_DAYS
    ? value
    : null;
}

/** The policy from `orgs.settings` (jsonb), parsed at the boundary: anything malformed counts as unset. */
export function retentionPolicy(settings: unknown): RetentionPolicy {
  const all = (typeof settings === 'object' && settings !== null ? settings : {}) as Record<string, unknown>;
  const raw = all.retention;
  const r = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  return {
    messageBodyDays: asDays(r.messageBodyDays),
    metadataDays: asDays(r.metadataDays),
    purgeCrmCopy: r.purgeCrmCopy === true,
  };
}

/** The org's current policy. */
export async function readRetentionPolicy(db: Queryable, orgId: string): Promise<RetentionPolicy> {
  const rows = await db.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [orgId]);
  return retentionPolicy(rows[0]?.settings);
}

function parseDays(key: string, raw: string): number {
  const value = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_RETENTION_DAYS))
    throw invalid(`${key} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}; got "${raw}".`, {
      min: 1,
      max: MAX_RETENTION_DAYS,
    });
  return value;
}

/** The checked value of one setting, given the policy it joins (metadata is kept at least as long as bodies). */
function retentionValue(name: string, raw: string, current: RetentionPolicy): number | boolean {
  const key = `retention.${name}`;
  if (name === 'purgeCrmCopy') {
    if (raw !== 'true' && raw !== 'false') throw invalid(`${key} must be true or false; got "${raw}".`);
    return raw === 'true';
  }
  const days = parseDays(key, raw);
  if (name === 'messageBodyDays' && current.metadataDays !== null && days > current.metadataDays)
    throw invalid(
      `retention.messageBodyDays (${days}) cannot exceed retention.metadataDays (${current.metadataDays}): a deleted message takes its body with it.`,
      { metadataDays: current.metadataDays },
    );
  if (name === 'metadataDays' && current.messageBodyDays !== null && days < current.messageBodyDays)
    throw invalid(
      `retention.metadataDays (${days}) cannot be shorter than retention.messageBodyDays (${current.messageBodyDays}).`,
      { messageBodyDays: current.messageBodyDays },
    );
  return days;
}

/** Sets (or with `raw` null, removes: keep forever / off) one retention setting of the org. */
export async function setRetentionSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<void> {
  const name = key.slice('retention.'.length);
  if (!RETENTION_SETTING_NAMES.includes(key))
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; retention settings: ${RETENTION_SETTING_NAMES.join(', ')}.`,
    );
  if (raw === null) {
    await db.query(`UPDATE orgs SET settings = settings #- ARRAY['retention', $2::text] WHERE id = $1`, [
      orgId,
      name,
    ]);
    return;
  }
  const value = retentionValue(name, raw.trim(), await readRetentionPolicy(db, orgId));
  await db.query(
    `UPDATE orgs
        SET settings = settings || jsonb_build_object('retention',
              CASE WHEN jsonb_typeof(settings->'retention') = 'object' THEN settings->'retention' ELSE '{}'::jsonb END
              || jsonb_build_object($2::text, $3::jsonb))
      WHERE id = $1`,
    [orgId, name, JSON.stringify(value)],
  );
}
