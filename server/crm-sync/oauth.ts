/**
 * Refreshing a stored connection's access token. Where the token endpoint is belongs to the CRM
 * plugin (its `CRM_OAUTH` entry); this file only reads the connection's settings and secrets.
 */

import { RefreshError, refreshOAuthToken } from '../../crm-plugins/oauth.ts';
import { oauthOf } from '../../crm-plugins/registry.ts';
import type { ConnectionSecrets, CrmConnection } from './connections.ts';

export { RefreshError };

/** Whether this connection carries what a refresh needs. */
export function canRefresh(connection: CrmConnection, secrets: ConnectionSecrets): boolean {
  return (
    oauthOf(connection.crm) !== null &&
    typeof secrets.refreshToken === 'string' &&
    typeof secrets.clientSecret === 'string' &&
    typeof connection.settings.clientId === 'string'
  );
}

/** Exchanges the refresh token for a new access token; returns the secrets to store. */
export async function refreshTokens(
  connection: CrmConnection,
  secrets: ConnectionSecrets,
  timeoutMs = 10_000,
): Promise<ConnectionSecrets> {
  const oauth = oauthOf(connection.crm);
  if (oauth === null || !canRefresh(connection, secrets))
    throw new RefreshError('no refresh token or OAuth app credentials');
  const renewed = await refreshOAuthToken(
    oauth.tokenUrl(connection.settings),
    {
      clientId: String(connection.settings.clientId),
      clientSecret: String(secrets.clientSecret),
      refreshToken: String(secrets.refreshToken),
    },
    timeoutMs,
  );
  return { ...secrets, ...renewed };
}
