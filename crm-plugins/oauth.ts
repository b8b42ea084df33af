/**
 * The OAuth surface a CRM plugin offers (issue #14 step 2): the relay asks the plugin for the
 * authorize URL, the code exchange and the refresh, so no vendor URL or SDK call lives in the
 * server. Refresh is plain OAuth 2.0 over HTTPS (form-encoded grant_type=refresh_token, no vendor
 * SDK needed); each plugin only says where its token endpoint is.
 */

/** An OAuth app registered with the CRM (HubSpot public app / Salesforce connected app). */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  /** HubSpot: the install (authorize) page; Salesforce: the login host. */
  authorizeBase: string;
  /** HubSpot: the API origin (token endpoint); Salesforce: the login host. */
  tokenBase: string;
}

/** What a code exchange yields: the connection's plain settings and its tokens. */
export interface OAuthGrant {
  settings: {
    baseUrl?: string;
    instanceUrl?: string;
    loginUrl?: string;
    clientId: string;
    portalId?: string;
  };
  accessToken: string;
  refreshToken: string | null;
}

/** The plain settings a stored connection keeps (the ones a refresh reads). */
export interface OAuthSettings {
  baseUrl?: string;
  instanceUrl?: string;
  loginUrl?: string;
  clientId?: string;
}

/** OAuth web flow and refresh of one CRM, reached through the registry's CRM_OAUTH. */
export interface CrmOAuth {
  /** The vendor's name as an admin reads it in messages. */
  label: string;
  /** The environment variables that configure the app, for the "not configured" answer. */
  configHint: string;
  authorizeUrl(app: OAuthApp, input: { redirectUri: string; state: string }): string;
  /** Throws CrmError when the vendor refuses the code. */
  exchangeCode(app: OAuthApp, input: { code: string; redirectUri: string }): Promise<OAuthGrant>;
  /** The token endpoint a refresh of a connection with these settings posts to. */
  tokenUrl(settings: OAuthSettings): string;
}

export class RefreshError extends Error {
  override readonly name = 'RefreshError';
}

/** The refresh token and app credentials a refresh sends. */
export interface RefreshCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

/**
 * Exchanges a refresh token for a new access token at `tokenUrl`. Returns the new access token and
 * the refresh token to keep (HubSpot may rotate it; Salesforce keeps it). Throws RefreshError.
 */
export async function refreshOAuthToken(
  tokenUrl: string,
  credentials: RefreshCredentials,
  timeoutMs = 10_000,
): Promise<{ accessToken: string; refreshToken: string }> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    refresh_token: credentials.refreshToken,
  });
  let response: Response;
  try {
    response = await fetch(tokenUrl, {
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
    accessToken,
    refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : credentials.refreshToken,
  };
}
