/**
 * OAuth web flows that connect a CRM (issue #6): the admin asks for an authorize URL carrying a
 * single-use, expiring `state` bound to the org and the admin; the CRM redirects back with a code
 * that is exchanged (through the vendor SDKs) for tokens, which are stored sealed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CrmError } from '../../crm-plugins/errors.ts';
import { exchangeHubSpotCode } from '../../crm-plugins/hubspot/client.ts';
import { exchangeSalesforceCode, salesforceAuthorizeUrl } from '../../crm-plugins/salesforce/client.ts';
import { requireOrg } from '../admin/org-admin.ts';
import type { Config, CrmOAuthApp } from '../config.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type CrmConnection, connectCrm } from './connections.ts';

export type OAuthCrm = 'hubspot' | 'salesforce';
export const OAUTH_CRMS: readonly OAuthCrm[] = ['hubspot', 'salesforce'];

/** How long an authorize link stays usable. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

/** HubSpot scopes the plugin needs (contacts, their schema, communications). */
export const HUBSPOT_SCOPES = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
  'oauth',
];

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export function oauthApp(config: Pick<Config, 'crmOAuth'>, crm: OAuthCrm): CrmOAuthApp {
  const app = config.crmOAuth[crm];
  if (app === null)
    throw new ApiError(
      409,
      'CRM_OAUTH_NOT_CONFIGURED',
      crm === 'hubspot'
        ? 'Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET to connect HubSpot.'
        : 'Set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET to connect Salesforce.',
    );
  return app;
}

export const redirectUriOf = (config: Pick<Config, 'publicUrl'>, crm: OAuthCrm) =>
  `${config.publicUrl}/v1/crm/oauth/${crm}/callback`;

/** Stores a fresh state for (org, admin, crm) and returns the CRM's authorize URL. */
export async function startOAuth(
  db: Queryable,
  config: Pick<Config, 'crmOAuth' | 'publicUrl'>,
  input: {
    orgId: string;
    actor: string;
    crm: OAuthCrm;
    /** The relay's clock: the state expires OAUTH_STATE_TTL_MS after it. */
    now: Date;
  },
): Promise<{ url: string; expiresAt: Date }> {
  const app = oauthApp(config, input.crm);
  await requireOrg(db, input.orgId);
  const state = randomBytes(32).toString('base64url');
  const expiresAt = new Date(input.now.getTime() + OAUTH_STATE_TTL_MS);
  await db.query(`DELETE FROM crm_oauth_states WHERE expires_at < $1::timestamptz - interval '1 day'`, [
    input.now,
  ]);
  await db.query(
    `INSERT INTO crm_oauth_states (state_hash, org_id, crm, actor, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [hashState(state), input.orgId, input.crm, input.actor, expiresAt],
  );
  const redirectUri = redirectUriOf(config, input.crm);
  if (input.crm === 'salesforce')
    return {
      url: salesforceAuthorizeUrl({
        loginUrl: app.authorizeBase,
        clientId: app.clientId,
        redirectUri,
        state,
      }),
      expiresAt,
    };
  const url = new URL(app.authorizeBase);
  url.search = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: redirectUri,
    scope: HUBSPOT_SCOPES.join(' '),
    state,
  }).toString();
  return { url: url.href, expiresAt };
}

/**
 * Consumes the state (once, unexpired, for this CRM), exchanges the code and stores the
 * connection with its tokens sealed. Throws ApiError with a message fit for the admin.
 */
export async function completeOAuth(
  db: Queryable,
  config: Pick<Config, 'crmOAuth' | 'publicUrl'>,
  /** Resolved only once the state checks out (a sandbox may create its key here). */
  secretsKey: () => Promise<SecretsKey>,
  input: {
    crm: OAuthCrm;
    code: string;
    state: string;
    /** The relay's clock, against which the state's expiry is judged. */
    now: Date;
  },
): Promise<CrmConnection> {
  const app = oauthApp(config, input.crm);
  const [bound] = await db.query<{ org_id: string; actor: string }>(
    `UPDATE crm_oauth_states SET used_at = $3
      WHERE state_hash = $1 AND crm = $2 AND used_at IS NULL AND expires_at > $3
      RETURNING org_id, actor`,
    [hashState(input.state), input.crm, input.now],
  );
  if (bound === undefined)
    throw new ApiError(
      400,
      'OAUTH_STATE_INVALID',
      'This connection link is invalid, expired or already used. Start the connection again from the admin page.',
    );
  const redirectUri = redirectUriOf(config, input.crm);
  const key = await secretsKey();
  try {
    if (input.crm === 'hubspot') {
      const tokens = await exchangeHubSpotCode({
        code: input.code,
        redirectUri,
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        basePath: app.tokenBase,
      });
      return await connectCrm(db, key, {
        orgId: bound.org_id,
        crm: 'hubspot',
        settings: { baseUrl: app.tokenBase, clientId: app.clientId, portalId: tokens.portalId },
        secrets: {
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          clientSecret: app.clientSecret,
        },
      });
    }
    const tokens = await exchangeSalesforceCode({
      code: input.code,
      redirectUri,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      loginUrl: app.tokenBase,
    });
    return await connectCrm(db, key, {
      orgId: bound.org_id,
      crm: 'salesforce',
      settings: { instanceUrl: tokens.instanceUrl, loginUrl: app.tokenBase, clientId: app.clientId },
      secrets: {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        clientSecret: app.clientSecret,
      },
    });
  } catch (error) {
    if (error instanceof CrmError)
      throw new ApiError(
        error.retryable ? 502 : 400,
        'OAUTH_CODE_REFUSED',
        `${input.crm === 'hubspot' ? 'HubSpot' : 'Salesforce'} refused the authorization code: ${error.message}`,
      );
    throw error;
  }
}
