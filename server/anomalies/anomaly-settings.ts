import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/** An org's anomaly-alert rules, kept under `orgs.settings.anomaly`. */
export interface AnomalySettings {
  /** How many standard deviations above its baseline an hour must be to raise an alert. */
  threshold: number;
  /** Pause a rep's sending when an alert is about them, until an admin resolves it. */
  pauseRep: boolean;
  /** Where each alert is also POSTed, signed (the org's SIEM); null: mail only. */
  webhookUrl: string | null;
}

export const ANOMALY_DEFAULTS: AnomalySettings = { threshold: 4, pauseRep: false, webhookUrl: null };

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

/** An https URL, or http on this machine's loopback (a collector beside the relay); else a refusal. */
function webhookUrl(raw: string): string | null {
  if (raw.trim().toLowerCase() === 'off') return null;
  const url = URL.canParse(raw.trim()) ? new URL(raw.trim()) : null;
  const loopback = url !== null && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const allowed =
    url !== null &&
    url.username === '' &&
    url.password === '' &&
    (url.protocol === 'https:' || (url.protocol === 'http:' && loopback));
  if (!allowed || url === null)
    throw new ApiError(
      400,
      'INVALID_SETTING',
      `anomaly.webhookUrl must be an https URL without credentials (http only on 127.0.0.1), or off; got "${raw}".`,
    );
  return url.href;
}

function anomalyValue(name: keyof AnomalySettings, raw: string): unknown {
  if (name === 'webhookUrl') return webhookUrl(raw);
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
