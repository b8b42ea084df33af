/**
 * Refreshing a stored connection's access token. Where the token endpoint is belongs to the CRM
 * plugin (its `CRM_OAUTH` entry); this file only reads the connection's settings and secrets.
 */

import { RefreshError, refreshOAuthToken } from '../../crm-plugins/oauth.ts';
import { oauthOf } from '../../crm-plugins/registry.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { type ConnectionSecrets, type CrmConnection, saveSecrets, setStatus } from './connections.ts';

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

/** Why a renewal did not happen; the connection is already marked auth_failed. */
export type RenewalRefused = 'cannot-refresh' | 'refused';

/**
 * The one refresh path of a stored connection, shared by the sync worker and the org connections:
 * refresh, store the new tokens sealed, or mark the connection auth_failed saying why (with
 * `reconnectHint` when it cannot refresh at all).
 */
export async function renewConnection(
  db: Queryable,
  key: SecretsKey | null,
  connection: CrmConnection,
  secrets: ConnectionSecrets,
  failure: { cause: Error; reconnectHint: string },
): Promise<{ connection: CrmConnection; secrets: ConnectionSecrets } | { refused: RenewalRefused }> {
  if (key === null || !canRefresh(connection, secrets)) {
    await setStatus(db, connection.id, 'auth_failed', `${failure.cause.message}; ${failure.reconnectHint}`);
    return { refused: 'cannot-refresh' };
  }
  let renewed: ConnectionSecrets;
  try {
    renewed = await refreshTokens(connection, secrets);
  } catch (error) {
    if (!(error instanceof RefreshError)) throw error;
    await setStatus(db, connection.id, 'auth_failed', error.message);
    return { refused: 'refused' };
  }
  return { connection: await saveSecrets(db, key, connection, renewed), secrets: renewed };
}
