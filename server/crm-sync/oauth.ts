/**
 * Refresh-token exchanges (plain OAuth 2.0 over HTTPS, no vendor SDK needed): HubSpot
 * `POST /oauth/v1/token` and Salesforce `POST /services/oauth2/token`, both form-encoded with
 * grant_type=refresh_token (reference §2.2; Salesforce OAuth docs).
 */
import type { ConnectionSecrets, CrmConnection } from './connections.ts';

export class RefreshError extends Error {
  override readonly name = 'RefreshError';
}

/** Whether this connection carries what a refresh needs. */
export function canRefresh(connection: CrmConnection, secrets: ConnectionSecrets): boolean {
  return (
    connection.crm !== 'sandbox' &&
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
  if (!canRefresh(connection, secrets)) throw new RefreshError('no refresh token or OAuth app credentials');
  const url =
    connection.crm === 'hubspot'
      ? `${(connection.settings.baseUrl ?? 'https://api.hubapi.com').replace(/\/+$/, '')}/oauth/v1/token`
      : `${(connection.settings.loginUrl ?? connection.settings.instanceUrl ?? 'https://login.salesforce.com').replace(/\/+$/, '')}/services/oauth2/token`;
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: String(connection.settings.clientId),
    client_secret: String(secrets.clientSecret),
    refresh_token: String(secrets.refreshToken),
  });
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new RefreshError(
      `token endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Reported below with the status.
  }
  const accessToken = json.access_token;
  if (!response.ok || typeof accessToken !== 'string' || accessToken === '') {
    const reason = json.error_description ?? json.message ?? json.error ?? text.slice(0, 200);
    throw new RefreshError(`token refresh refused (${response.status}): ${String(reason)}`);
  }
  return {
    ...secrets,
    accessToken,
    // HubSpot may rotate the refresh token; Salesforce keeps it.
    refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : secrets.refreshToken,
  };
}
