import { type CacheProvider, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { randomToken } from '../ids.ts';
import { acsUrl, type SamlSettingsRow, spEntityId } from './saml-settings.ts';

/** Where a browser's one-time code goes: the extension's page (null) or the admin console. */
export type SamlReturn = 'console' | null;

/** How long an AuthnRequest id stays answerable (InResponseTo). */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;

/** True when a URL is one the login route may redirect a browser to (https only). */
function isHttpsUrl(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

const storedSsoUrlRefused = () =>
  new ApiError(
    409,
    'INVALID_SSO_URL',
    'This organisation’s IdP sign-in URL is not https, so sign-in will not redirect to it; an owner must update the SSO settings.',
  );

/** node-saml must not keep request ids in memory: they live in SQL (saml_requests). */
const noCache: CacheProvider = {
  saveAsync: async () => null,
  getAsync: async () => null,
  removeAsync: async () => null,
};

/** node-saml set up for one org's IdP; requestId fixes the AuthnRequest id it will issue. */
export function samlFor(settings: SamlSettingsRow, publicUrl: string, requestId?: string): SAML {
  return new SAML({
    idpCert: settings.idp_cert,
    issuer: spEntityId(publicUrl, settings.org_id),
    callbackUrl: acsUrl(publicUrl, settings.org_id),
    entryPoint: settings.sso_url,
    idpIssuer: settings.idp_entity_id,
    audience: spEntityId(publicUrl, settings.org_id),
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    // Timestamps are checked below against the relay's clock (Deps.clock), not node-saml's.
    acceptedClockSkewMs: -1,
    // InResponseTo is checked below against saml_requests (shared by every process).
    validateInResponseTo: ValidateInResponseTo.never,
    cacheProvider: noCache,
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    disableRequestedAuthnContext: true,
    ...(requestId === undefined ? {} : { generateUniqueId: () => requestId }),
  });
}

/** Issues an AuthnRequest (its id is remembered in SQL) and returns the IdP redirect URL. */
export async function startLogin(
  db: Queryable,
  settings: SamlSettingsRow,
  publicUrl: string,
  now: Date,
  relayState = '',
  /** The starting client's own state, handed back with the one-time code (see consumeAssertion). */
  clientState: string | null = null,
  returnTo: SamlReturn = null,
): Promise<{ url: string; requestId: string }> {
  // Settings stored before https was required are refused here rather than followed.
  if (!isHttpsUrl(settings.sso_url)) throw storedSsoUrlRefused();
  const requestId = `_${randomToken(24)}`;
  const url = await samlFor(settings, publicUrl, requestId).getAuthorizeUrlAsync(relayState, undefined, {});
  if (!isHttpsUrl(url)) throw storedSsoUrlRefused();
  await db.query('DELETE FROM saml_requests WHERE expires_at <= $1', [now]);
  await db.query(
    `INSERT INTO saml_requests (id, org_id, created_at, expires_at, client_state, return_to)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [requestId, settings.org_id, now, new Date(now.getTime() + SAML_REQUEST_TTL_MS), clientState, returnTo],
  );
  return { url, requestId };
}
