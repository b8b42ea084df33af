import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/** An org's anomaly-alert rules, kept under `orgs.settings.anomaly`. */
export interface AnomalySettings {
  /** How many standard deviations above its baseline an hour must be to raise an alert. */
  threshold: number;
  /** Pause a rep's sending when an alert is about them, until an admin resolves it. */
  pauseRep: boolean;
}

export const ANOMALY_DEFAULTS: AnomalySettings = { threshold: 4, pauseRep: false };

export const ANOMALY_SETTING_NAMES = Object.keys(ANOMALY_DEFAULTS).map((name) => `anomaly.${name}`);

/** Whether `key` names an anomaly setting (`anomaly.…`), known or not. */
export const isAnomalySettingKey = (key: string): boolean => key.startsWith('anomaly.');

export async function readAnomalySettings(db: Queryable, orgId: string): Promise<AnomalySettings> {
  const [row] = await db.query<{ anomaly: Partial<AnomalySettings> | null }>(
    `SELECT settings->'anomaly' AS anomaly FROM orgs WHERE id = $1`,
    [orgId],
  );
  return { ...ANOMALY_DEFAULTS, ...(row?.anomaly ?? {}) };
}

function anomalyValue(name: keyof AnomalySettings, raw: string): unknown {
  const text = raw.trim().toLowerCase();
  if (name === 'pauseRep') {
    const on = { on: true, true: true, off: false, false: false }[text];
    if (on === undefined)
      throw new ApiError(400, 'INVALID_SETTING', `anomaly.pauseRep must be on or off; got "${raw}".`);
    return on;
  }
  const value = /^\d{1,2}(\.\d)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 2 && value <= 20))
    throw new ApiError(
      400,
      'INVALID_SETTING',
      `anomaly.threshold must be a number of standard deviations from 2 to 20; got "${raw}".`,
    );
  return value;
}

/** Sets (or with `raw` null, removes, back to its default) one anomaly setting of the org. */
export async function setAnomalySetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<void> {
  const name = key.slice('anomaly.'.length);
  if (!Object.hasOwn(ANOMALY_DEFAULTS, name))
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; anomaly settings: ${ANOMALY_SETTING_NAMES.join(', ')}.`,
    );
  if (raw === null) {
    await db.query(`UPDATE orgs SET settings = settings #- ARRAY['anomaly', $2::text] WHERE id = $1`, [
      orgId,
      name,
    ]);
    return;
  }
  const value = anomalyValue(name as keyof AnomalySettings, raw);
  await db.query(
    `UPDATE orgs SET settings = jsonb_set(settings, '{anomaly}', coalesce(settings->'anomaly', '{}') || jsonb_build_object($2::text, $3::jsonb)) WHERE id = $1`,
    [orgId, name, JSON.stringify(value)],
  );
}
