/**
 * OAuth web flows that connect a CRM (issue #6): the admin asks for an authorize URL carrying a
 * single-use, expiring `state` bound to the org and the admin; the CRM redirects back with a code
 * that is exchanged (through the vendor SDKs) for tokens, which are stored sealed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CrmError } from '../../crm-plugins/errors.ts';
import { CRM_OAUTH, type OAuthCrm } from '../../crm-plugins/registry.ts';
import type { Config, CrmOAuthApp } from '../config.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import { type CrmConnection, connectCrm } from './connections.ts';

export { OAUTH_CRMS, type OAuthCrm } from '../../crm-plugins/registry.ts';

/** How long an authorize link stays usable. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export function oauthApp(config: Pick<Config, 'crmOAuth'>, crm: OAuthCrm): CrmOAuthApp {
  const app = config.crmOAuth[crm];
  if (app === null) throw new ApiError(409, 'CRM_OAUTH_NOT_CONFIGURED', CRM_OAUTH[crm].configHint);
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
  const url = CRM_OAUTH[input.crm].authorizeUrl(app, {
    redirectUri: redirectUriOf(config, input.crm),
    state,
  });
  return { url, expiresAt };
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
  const oauth = CRM_OAUTH[input.crm];
  try {
    const grant = await oauth.exchangeCode(app, { code: input.code, redirectUri });
    return await connectCrm(db, key, {
      orgId: bound.org_id,
      crm: input.crm,
      settings: grant.settings,
      secrets: {
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        clientSecret: app.clientSecret,
      },
      by: { actor: bound.actor, at: input.now },
    });
  } catch (error) {
    if (error instanceof CrmError)
      throw new ApiError(
        error.retryable ? 502 : 400,
        'OAUTH_CODE_REFUSED',
        `${oauth.label} refused the authorization code: ${error.message}`,
      );
    throw error;
  }
}
