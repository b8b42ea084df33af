import { SSO_ORG_ID } from '../messages/extension-messages.ts';

// The sign-in link an admin hands out, and the login address the extension opens for it.

/** The `browser.storage.local` key remembering the last organisation signed in with (not a secret). */
export const SSO_LAST_ORG_KEY = 'ssoLastOrg';

/** The relay's SP-initiated login address for `orgId`. */
export function ssoLoginUrl(relayUrl: string, orgId: string, state?: string): string {
  const login = `${relayUrl}/v1/sso/saml/${orgId}/login`;
  return state === undefined ? login : `${login}?state=${encodeURIComponent(state)}`;
}

export type SsoTarget = { ok: true; orgId: string; loginUrl: string } | { ok: false; error: string };

/**
 * What the rep typed: the sign-in link an admin handed out (`{relay}/v1/sso/saml/{orgId}/login`, on the
 * configured relay) or the bare organisation ID. The login address is rebuilt from the ID, so nothing
 * else from a pasted link (query, fragment) is ever opened.
 */
export function parseSsoTarget(input: string, relayUrl: string): SsoTarget {
  const text = input.trim();
  const example = `${relayUrl}/v1/sso/saml/<organisation ID>/login`;
  if (text === '') return { ok: false, error: 'Enter the SSO sign-in link your admin gave you, or its ID.' };
  const asId = text.toLowerCase();
  if (SSO_ORG_ID.test(asId)) return { ok: true, orgId: asId, loginUrl: ssoLoginUrl(relayUrl, asId) };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      error: `That is neither a sign-in link nor an organisation ID. A link looks like ${example}; an ID looks like 123e4567-e89b-12d3-a456-426614174000.`,
    };
  }
  const relay = new URL(relayUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, error: `A sign-in link starts with http:// or https://, like ${example}.` };
  if (url.origin !== relay.origin) {
    return {
      ok: false,
      error: `This link is for ${url.origin}, but the extension uses the relay at ${relay.origin}. Change the relay URL above first, or ask your admin for the right link.`,
    };
  }
  const base = relay.pathname.replace(/\/+$/, '');
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = `${base}/v1/sso/saml/`;
  const orgId = path.startsWith(prefix) && path.endsWith('/login') ? path.slice(prefix.length, -6) : '';
  if (!SSO_ORG_ID.test(orgId.toLowerCase()))
    return { ok: false, error: `This is not an SSO sign-in link. It should look like ${example}.` };
  const id = orgId.toLowerCase();
  return { ok: true, orgId: id, loginUrl: ssoLoginUrl(relayUrl, id) };
}
