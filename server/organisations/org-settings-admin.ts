import { createHash } from 'node:crypto';
import {
  ANOMALY_SETTING_NAMES,
  isAnomalySettingKey,
  setAnomalySetting,
} from '../anomalies/anomaly-settings.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { scanText } from '../compliance/content-scanner.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import {
  isPaymentSettingKey,
  PAYMENT_SETTING_NAMES,
  setPaymentSetting,
} from '../payments/payment-settings.ts';
import { phoneCountry } from '../phone.ts';
import {
  isRetentionSettingKey,
  RETENTION_SETTING_NAMES,
  setRetentionSetting,
} from '../retention/retention-settings.ts';
import { AUTH_SETTING_NAMES, isAuthSettingKey, setAuthSetting } from './auth-policy-settings.ts';
import { requireOrg } from './org-admin.ts';
import {
  isQuietHoursSettingKey,
  QUIET_HOURS_SETTING_NAMES,
  setQuietHoursSetting,
} from './quiet-hours-settings.ts';

/** The org settings an admin may set, with the kind of value each takes. */
export const ORG_SETTING_TYPES = {
  identificationName: 'string',
  helpReply: 'string',
  optOutReply: 'string',
  optInReply: 'string',
  cardWarningReply: 'string',
  optInRequest: 'string',
  phiAllowed: 'boolean',
  doubleOptIn: 'boolean',
  /** Every person acknowledges the org's texting policy before their first send, when it changes and yearly. */
  requirePolicyAcknowledgement: 'boolean',
  reintroduceAfterDays: 'number',
  quietHoursReplyWindowMinutes: 'number',
  plivoPowerpackUuid: 'string',
  /** Shared texts reps pick in the extension's composer: a JSON array of { name, body }. */
  messageTemplates: 'templates',
  /** When set, reps cannot change which inbound texts notify them in the extension. */
  extensionNotifications: 'notifications',
  /** ISO 3166 alpha-2 country a phone number typed without its country code is read in (US when unset). */
  defaultCountry: 'country',
  /** The share (percent, 0 to 100; 2 when unset) of each day's conversations sampled into the review queue. */
  reviewSamplePercent: 'number',
} as const;
export type OrgSettingKey = keyof typeof ORG_SETTING_TYPES;

/** The merge fields a template may use; the extension fills them from the contact and the rep. */
export const MERGE_FIELDS = ['firstName', 'lastName', 'name', 'repName', 'orgName'] as const;
/** Which inbound texts raise a notification in the extension. */
export const NOTIFICATION_PREFERENCES = ['off', 'mine', 'all'] as const;
export type NotificationPreference = (typeof NOTIFICATION_PREFERENCES)[number];

export const MAX_TEMPLATES = 50;
const MAX_TEMPLATE_NAME = 60;
const MAX_TEMPLATE_BODY = 1600;

/** A shared template as reps get it; the id follows the name, so reordering keeps it. */
export interface MessageTemplate {
  id: string;
  name: string;
  body: string;
}

/** The extension's share of the org settings, as GET /v1/me hands it over. */
export interface ExtensionSettings {
  templates: MessageTemplate[];
  locked: { notifications: NotificationPreference | null };
}

function isKey(key: string): key is OrgSettingKey {
  return Object.hasOwn(ORG_SETTING_TYPES, key);
}

const invalid = (message: string, details?: Record<string, unknown>) =>
  new ApiError(400, 'INVALID_SETTING', message, details);

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

const KNOWN_FIELDS = `known: ${MERGE_FIELDS.map((f) => `{{${f}}}`).join(', ')}`;

/** What is wrong with a template body's merge fields (an unknown one, a brace left open), or null. */
function mergeFieldProblem(body: string): { message: string; unknown: string[] } | null {
  const known: readonly string[] = MERGE_FIELDS;
  const unknown = [...body.matchAll(PLACEHOLDER)]
    .filter((m) => !known.includes((m[1] ?? '').trim()))
    .map((m) => m[0]);
  if (unknown.length > 0) {
    const fields = unknown.length === 1 ? 'field' : 'fields';
    return { message: `uses unknown merge ${fields} ${unknown.join(', ')}; ${KNOWN_FIELDS}`, unknown };
  }
  const rest = body.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    return { message: `has a merge field without its "{{" or "}}"; ${KNOWN_FIELDS}`, unknown: [] };
  }
  return null;
}

/** Checks `--value` of messageTemplates and returns what is stored: [{ name, body }]. */
export function parseTemplatesValue(raw: string): Array<{ name: string; body: string }> {
  const shape = 'a JSON array of {"name": "...", "body": "..."} objects';
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalid(`messageTemplates must be ${shape}; the value is not JSON.`);
  }
  if (!Array.isArray(value)) throw invalid(`messageTemplates must be ${shape}.`);
  if (value.length > MAX_TEMPLATES) {
    throw invalid(`messageTemplates holds at most ${MAX_TEMPLATES} templates; got ${value.length}.`, {
      max: MAX_TEMPLATES,
    });
  }
  const seen = new Map<string, number>();
  return value.map((entry: unknown, index) => {
    const at = `messageTemplates[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw invalid(`${at} must be an object with "name" and "body".`, { index });
    }
    const extra = Object.keys(entry).filter((k) => k !== 'name' && k !== 'body');
    if (extra.length > 0) {
      throw invalid(`${at} has unknown fields: ${extra.join(', ')}; a template has only "name" and "body".`, {
        index,
      });
    }
    const { name, body } = entry as { name?: unknown; body?: unknown };
    if (typeof name !== 'string' || name.trim() === '' || name.trim().length > MAX_TEMPLATE_NAME) {
      throw invalid(`${at}.name must be 1 to ${MAX_TEMPLATE_NAME} characters.`, { index, field: 'name' });
    }
    const trimmed = name.trim();
    if (typeof body !== 'string' || body.trim() === '' || body.length > MAX_TEMPLATE_BODY) {
      throw invalid(`${at}.body ("${trimmed}") must be 1 to ${MAX_TEMPLATE_BODY} characters.`, {
        index,
        field: 'body',
      });
    }
    // A template is stored and shown to every rep: a card, SSN or bank number in it would be kept
    // and texted (PCI DSS 3.3/3.4), so it is refused here as a send would be.
    const numbers = scanText(body).findings.filter((f) => f.kind !== 'phi');
    if (numbers.length > 0) {
      throw invalid(
        `${at} ("${trimmed}") holds what looks like a ${numbers[0]?.kind === 'card' ? 'card' : numbers[0]?.kind === 'ssn' ? 'Social Security' : 'bank account'} number; templates may not hold one (send payment links instead).`,
        { index, field: 'body', code: 'SENSITIVE_CONTENT' },
      );
    }
    const problem = mergeFieldProblem(body);
    if (problem !== null) {
      throw invalid(`${at} ("${trimmed}") ${problem.message}.`, {
        index,
        field: 'body',
        unknown: problem.unknown,
      });
    }
    const folded = trimmed.toLowerCase();
    const first = seen.get(folded);
    if (first !== undefined) {
      throw invalid(
        `messageTemplates[${first}] and ${at} are both named "${trimmed}"; template names must be unique.`,
        {
          index,
          field: 'name',
        },
      );
    }
    seen.set(folded, index);
    return { name: trimmed, body };
  });
}

/** Sets (or with value null, removes) one org setting after checking its name and type. */
export async function setOrgSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
  by: { actor: string; at: Date },
): Promise<unknown> {
  await requireOrg(db, orgId);
  const before = settingValue(await readOrgSettings(db, orgId), key);
  const settings = await applyOrgSetting(db, orgId, key, raw);
  await appendAudit(db, {
    orgId,
    actor: by.actor,
    action: 'settings.changed',
    target: { type: 'org_setting', id: key },
    at: by.at,
    before: { [key]: before },
    after: { [key]: settingValue(settings, key) },
  });
  return settings;
}

/** One setting's value (identity and retention policies sit under settings.auth / .retention), null when unset. */
export function settingValue(settings: unknown, key: string): unknown {
  const all = (settings ?? {}) as Record<string, unknown>;
  const group = isAuthSettingKey(key)
    ? 'auth'
    : isRetentionSettingKey(key)
      ? 'retention'
      : isPaymentSettingKey(key)
        ? 'payments'
        : isAnomalySettingKey(key)
          ? 'anomaly'
          : isQuietHoursSettingKey(key)
            ? 'quietHours'
            : null;
  if (group === null) return all[key] ?? null;
  const nested = (all[group] ?? {}) as Record<string, unknown>;
  return nested[key.slice(group.length + 1)] ?? null;
}

async function applyOrgSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<unknown> {
  if (isAuthSettingKey(key)) {
    await setAuthSetting(db, orgId, key, raw);
    return readOrgSettings(db, orgId);
  }
  if (isPaymentSettingKey(key)) {
    await setPaymentSetting(db, orgId, key, raw);
    return readOrgSettings(db, orgId);
  }
  if (isRetentionSettingKey(key)) {
    await setRetentionSetting(db, orgId, key, raw);
    return readOrgSettings(db, orgId);
  }
  if (isAnomalySettingKey(key)) {
    await setAnomalySetting(db, orgId, key, raw);
    return readOrgSettings(db, orgId);
  }
  if (isQuietHoursSettingKey(key)) {
    await setQuietHoursSetting(db, orgId, key, raw);
    return readOrgSettings(db, orgId);
  }
  if (!isKey(key)) {
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; known: ${[...Object.keys(ORG_SETTING_TYPES), ...QUIET_HOURS_SETTING_NAMES, ...AUTH_SETTING_NAMES, ...PAYMENT_SETTING_NAMES, ...RETENTION_SETTING_NAMES, ...ANOMALY_SETTING_NAMES].join(', ')}.`,
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
    if (key === 'reviewSamplePercent' && Number(raw) > 100)
      throw invalid(`${key} is a percentage, 0 to 100; got ${raw}.`);
  } else if (type === 'templates') {
    value = parseTemplatesValue(raw);
  } else if (type === 'notifications') {
    if (!(NOTIFICATION_PREFERENCES as readonly string[]).includes(raw)) {
      throw invalid(`${key} must be ${NOTIFICATION_PREFERENCES.join(', ')}; got "${raw}".`);
    }
  } else if (type === 'country') {
    value = phoneCountry(raw.trim().toUpperCase());
    if (value === null) {
      throw invalid(`${key} must be a two-letter country code such as US, CA or GB; got "${raw}".`);
    }
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

/** Every setting an admin may set, in the order the CLI's help and the admin console list them. */
export const ALL_SETTING_KEYS: readonly string[] = [
  ...Object.keys(ORG_SETTING_TYPES),
  ...QUIET_HOURS_SETTING_NAMES,
  ...AUTH_SETTING_NAMES,
  ...RETENTION_SETTING_NAMES,
  ...PAYMENT_SETTING_NAMES,
  ...ANOMALY_SETTING_NAMES,
];

export async function readOrgSettings(db: Queryable, orgId: string): Promise<unknown> {
  const rows = await db.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [orgId]);
  return rows[0]?.settings ?? {};
}

/** A template's id: from its name (unique in the org), so reordering or editing the body keeps it. */
export function templateId(name: string): string {
  return `tpl_${createHash('sha256').update(name, 'utf8').digest('base64url').slice(0, 16)}`;
}

/**
 * The extension's settings from `orgs.settings` (jsonb), parsed at the boundary: what the CLI
 * stored is valid, and anything else (a hand-edited row) is left out rather than failing sign-in.
 */
export function extensionSettings(raw: unknown): ExtensionSettings {
  const s = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  const templates: MessageTemplate[] = [];
  const names = new Set<string>();
  for (const entry of Array.isArray(s.messageTemplates) ? s.messageTemplates.slice(0, MAX_TEMPLATES) : []) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { name, body } = entry as { name?: unknown; body?: unknown };
    if (typeof name !== 'string' || typeof body !== 'string') continue;
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > MAX_TEMPLATE_NAME || body.trim() === '') continue;
    if (body.length > MAX_TEMPLATE_BODY || names.has(trimmed.toLowerCase())) continue;
    if (mergeFieldProblem(body) !== null) continue;
    names.add(trimmed.toLowerCase());
    templates.push({ id: templateId(trimmed), name: trimmed, body });
  }
  const locked = s.extensionNotifications;
  return {
    templates,
    locked: {
      notifications: NOTIFICATION_PREFERENCES.find((p) => p === locked) ?? null,
    },
  };
}
