import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { OrgSettingSchema, OrgSettingsSchema } from '../../contract/org-settings.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { isAuthSettingKey } from '../organisations/auth-policy-settings.ts';
import { orgCount } from '../organisations/org-admin.ts';
import {
  ALL_SETTING_KEYS,
  readOrgSettings,
  setOrgSetting,
  settingValue,
} from '../organisations/org-settings-admin.ts';

const tags = ['settings'];

/**
 * Settings that could turn the product against its customers or its evidence: how everyone signs in
 * (auth.*), where payment links point (payments.*), how soon texts are purged (retention.*), where
 * alerts go (anomaly.*), which numbers texts leave from (Powerpack). They need a sign-in within the
 * last five minutes, as configuring SSO does.
 */
function needsRecentSignIn(key: string): boolean {
  return isAuthSettingKey(key) || /^(payments|retention|anomaly)\./.test(key) || key === 'plivoPowerpackUuid';
}

/**
 * The Powerpack is where an org's texts leave from and what proves a number is the org's own (POST
 * /v1/numbers): on a relay several orgs share, one org's admin naming another's Powerpack would send
 * from its numbers and claim them. There the relay's operator sets it (the CLI); an org alone on its
 * relay sets its own.
 */
async function requireOwnRelay(db: Queryable): Promise<void> {
  if ((await orgCount(db)) > 1)
    throw new ApiError(
      403,
      'OPERATOR_SETTING',
      "On a relay shared by several organisations, the relay's operator sets plivoPowerpackUuid (npm run cli -- org settings --set plivoPowerpackUuid); ask them.",
      { setting: 'plivoPowerpackUuid' },
    );
}

/** A setting's value as the CLI's text, which one parser checks for both (null: remove it). */
function asRaw(key: string, value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && key === 'messageTemplates') return JSON.stringify(value);
  throw new ApiError(
    400,
    'INVALID_SETTING',
    `${key} takes a string, a number, true or false, or null to unset it.`,
    {
      field: 'value',
    },
  );
}

/**
 * The org's settings over HTTP (issue #17: the admin console's compliance settings): the same names,
 * checks and audit entry (settings.changed) as `npm run cli -- org settings`. Identity policies
 * (auth.*) decide how everyone signs in, so changing one needs a recent sign-in.
 */
export const orgSettingsRoutes: RouteModule = (app, { db, clock }) => {
  const manage = requires('org.manage');

  app.get(
    '/v1/org/settings',
    {
      config: manage,
      schema: {
        summary: "The org's settings",
        tags,
        response: { 200: OrgSettingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const stored = await readOrgSettings(db, principalOf(request).orgId);
      return { settings: ALL_SETTING_KEYS.map((key) => ({ key, value: settingValue(stored, key) })) };
    },
  );

  app.put(
    '/v1/org/settings/:key',
    {
      config: manage,
      schema: {
        summary: 'Change one org setting',
        description:
          'value null unsets it (its default applies). Only a signed-in person changes settings (never an API key); sign-in policies (auth.*), payments.*, retention.*, anomaly.* and plivoPowerpackUuid need a sign-in in the last five minutes (POST /v1/auth/reauth). Audited as settings.changed.',
        tags,
        params: Type.Object({
          key: Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z][A-Za-z0-9.]*$' }),
        }),
        body: Type.Object({ value: Type.Unknown() }, { additionalProperties: false }),
        response: { 200: OrgSettingSchema, ...errorResponses },
        'x-error-codes': [
          'UNKNOWN_SETTING',
          'INVALID_SETTING',
          'REAUTH_REQUIRED',
          'SESSION_REQUIRED',
          'OPERATOR_SETTING',
        ],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { key } = request.params;
      if (!ALL_SETTING_KEYS.includes(key))
        throw new ApiError(
          400,
          'UNKNOWN_SETTING',
          `"${key}" is not a setting; GET /v1/org/settings lists them.`,
        );
      const now = clock();
      // Settings are a person's decision: an integration's key (which could leak) changes none.
      if (p.sessionId === null)
        throw new ApiError(
          403,
          'SESSION_REQUIRED',
          'Org settings are changed by a signed-in person, not an API key (the CLI is for scripts).',
        );
      if (needsRecentSignIn(key)) await requireRecentAuth(db, p, now);
      if (key === 'plivoPowerpackUuid') await requireOwnRelay(db);
      const raw = asRaw(key, request.body.value ?? null);
      const settings = await db.transaction((tx) =>
        setOrgSetting(tx, p.orgId, key, raw, { actor: p.actor, at: now }),
      );
      return { key, value: settingValue(settings, key) };
    },
  );
};
