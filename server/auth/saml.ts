import { X509Certificate } from 'node:crypto';
import { type CacheProvider, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { DOMParser, type Element } from '@xmldom/xmldom';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId, randomToken, sha256 } from '../ids.ts';
import { recordAuthEvent } from './auth-events.ts';
import { parseAuthSettings } from './auth-settings.ts';
import { hasPasskey } from './passkeys.ts';
import { createSession, type IssuedTokens } from './sessions.ts';
import { issueLink, type UserRow } from './users.ts';

/** How long an AuthnRequest id stays answerable (InResponseTo). */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;
/** Clock skew tolerated on NotBefore / NotOnOrAfter. */
export const SAML_CLOCK_SKEW_MS = 2 * 60_000;

const NS_MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];

export interface SamlSettingsRow {
  org_id: string;
  idp_entity_id: string;
  sso_url: string;
  idp_cert: string;
  default_role: string;
  sso_only: boolean;
  updated_at: Date;
}

export interface IdpFields {
  idpEntityId: string;
  ssoUrl: string;
  /** PEM or bare base64 DER. */
  idpCert: string;
}

export const spEntityId = (publicUrl: string, orgId: string) => `${publicUrl}/v1/sso/saml/${orgId}`;
export const acsUrl = (publicUrl: string, orgId: string) => `${spEntityId(publicUrl, orgId)}/acs`;

const invalidMetadata = (why: string) =>
  new ApiError(422, 'INVALID_IDP_METADATA', `The IdP metadata is not usable: ${why}.`);

/** Normalises a certificate (PEM or bare base64) to PEM, refusing anything that does not parse. */
export function normalizeCertificate(input: string): string {
  const body = input
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '')
    .trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body))
    throw new ApiError(422, 'INVALID_CERTIFICATE', 'The IdP signing certificate is not base64.');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw new ApiError(
      422,
      'INVALID_CERTIFICATE',
      'The IdP signing certificate is not an X.509 certificate.',
    );
  }
  return pem;
}

function parseXml(xml: string) {
  let failed = false;
  const doc = new DOMParser({
    onError: (level) => {
      if (level !== 'warning') failed = true;
    },
  }).parseFromString(xml, 'text/xml');
  if (failed || doc.documentElement === null) return null;
  return doc;
}

function children(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, localName));
}

/** Reads the entity id, redirect-binding SSO URL and signing certificate from IdP metadata XML. */
export function parseIdpMetadata(xml: string): IdpFields {
  const doc = parseXml(xml);
  const root = doc?.documentElement;
  if (root === undefined || root === null) throw invalidMetadata('it is not well-formed XML');
  const entity =
    root.localName === 'EntityDescriptor' && root.namespaceURI === NS_MD
      ? root
      : children(root, NS_MD, 'EntityDescriptor')[0];
  if (entity === undefined) throw invalidMetadata('no EntityDescriptor');
  const idpEntityId = entity.getAttribute('entityID') ?? '';
  if (idpEntityId === '') throw invalidMetadata('no entityID');
  const idp = children(entity, NS_MD, 'IDPSSODescriptor')[0];
  if (idp === undefined) throw invalidMetadata('no IDPSSODescriptor');
  const sso = children(idp, NS_MD, 'SingleSignOnService').find(
    (e) => e.getAttribute('Binding') === REDIRECT_BINDING,
  );
  const ssoUrl = sso?.getAttribute('Location') ?? '';
  if (ssoUrl === '') throw invalidMetadata('no HTTP-Redirect SingleSignOnService');
  const key = children(idp, NS_MD, 'KeyDescriptor').find((e) => {
    const use = e.getAttribute('use');
    return use === null || use === '' || use === 'signing';
  });
  const certText = key === undefined ? '' : (children(key, NS_DS, 'X509Certificate')[0]?.textContent ?? '');
  if (certText.trim() === '') throw invalidMetadata('no signing X509Certificate');
  return { idpEntityId, ssoUrl: checkSsoUrl(ssoUrl), idpCert: normalizeCertificate(certText) };
}

export function checkSsoUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiError(422, 'INVALID_SSO_URL', 'The IdP SSO URL is not a URL.');
  }
  // The login route redirects browsers here: anything but https would make it an open redirect
  // to any host, and would hand the AuthnRequest over in the clear.
  if (parsed.protocol !== 'https:')
    throw new ApiError(422, 'INVALID_SSO_URL', 'The IdP SSO URL must be an https:// URL.');
  return parsed.toString();
}

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

export async function getSamlSettings(db: Queryable, orgId: string): Promise<SamlSettingsRow | null> {
  const rows = await db.query<SamlSettingsRow>('SELECT * FROM saml_settings WHERE org_id = $1', [orgId]);
  return rows[0] ?? null;
}

/** Creates or replaces the org's IdP settings; audited as sso_configured. */
export async function saveSamlSettings(
  tx: Queryable,
  input: {
    orgId: string;
    idp: IdpFields;
    defaultRole: string;
    ssoOnly: boolean | null;
    actor: string;
    ip: string;
  },
  now: Date,
): Promise<SamlSettingsRow> {
  const before = await getSamlSettings(tx, input.orgId);
  const [row] = await tx.query<SamlSettingsRow>(
    `INSERT INTO saml_settings (org_id, idp_entity_id, sso_url, idp_cert, default_role, sso_only, updated_at)
     VALUES ($1, $2, $3, $4, $5, coalesce($6, false), $7)
     ON CONFLICT (org_id) DO UPDATE SET idp_entity_id = $2, sso_url = $3, idp_cert = $4,
       default_role = $5, sso_only = coalesce($6, saml_settings.sso_only), updated_at = $7
     RETURNING *`,
    [
      input.orgId,
      input.idp.idpEntityId,
      input.idp.ssoUrl,
      input.idp.idpCert,
      input.defaultRole,
      input.ssoOnly,
      now,
    ],
  );
  const saved = row as SamlSettingsRow;
  await recordAuthEvent(tx, {
    orgId: input.orgId,
    userId: null,
    actor: input.actor,
    kind: 'sso_configured',
    detail: {
      idpEntityId: saved.idp_entity_id,
      ssoUrl: saved.sso_url,
      defaultRole: saved.default_role,
      ssoOnly: saved.sso_only,
      certificateChanged: before?.idp_cert !== saved.idp_cert,
      ...(before !== null && before.idp_entity_id !== saved.idp_entity_id
        ? { previousIdpEntityId: before.idp_entity_id }
        : {}),
    },
    ip: input.ip,
    at: now,
  });
  return saved;
}

/** True when the org only allows sign-in through its IdP. */
export async function ssoRequired(db: Queryable, orgId: string): Promise<boolean> {
  const rows = await db.query<{ sso_only: boolean }>('SELECT sso_only FROM saml_settings WHERE org_id = $1', [
    orgId,
  ]);
  return rows[0]?.sso_only === true;
}

export function settingsDto(s: SamlSettingsRow, publicUrl: string) {
  return {
    configured: true,
    idpEntityId: s.idp_entity_id,
    ssoUrl: s.sso_url,
    idpCertificate: s.idp_cert,
    defaultRole: s.default_role,
    ssoOnly: s.sso_only,
    spEntityId: spEntityId(publicUrl, s.org_id),
    acsUrl: acsUrl(publicUrl, s.org_id),
    loginUrl: `${spEntityId(publicUrl, s.org_id)}/login`,
    updatedAt: new Date(s.updated_at).toISOString(),
  };
}

/** node-saml must not keep request ids in memory: they live in SQL (saml_requests). */
const noCache: CacheProvider = {
  saveAsync: async () => null,
  getAsync: async () => null,
  removeAsync: async () => null,
};

function samlFor(settings: SamlSettingsRow, publicUrl: string, requestId?: string): SAML {
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
): Promise<{ url: string; requestId: string }> {
  // Settings stored before https was required are refused here rather than followed.
  if (!isHttpsUrl(settings.sso_url)) throw storedSsoUrlRefused();
  const requestId = `_${randomToken(24)}`;
  const url = await samlFor(settings, publicUrl, requestId).getAuthorizeUrlAsync(relayState, undefined, {});
  if (!isHttpsUrl(url)) throw storedSsoUrlRefused();
  await db.query('DELETE FROM saml_requests WHERE expires_at <= $1', [now]);
  await db.query(
    'INSERT INTO saml_requests (id, org_id, created_at, expires_at, client_state) VALUES ($1, $2, $3, $4, $5)',
    [requestId, settings.org_id, now, new Date(now.getTime() + SAML_REQUEST_TTL_MS), clientState],
  );
  return { url, requestId };
}

export interface VerifiedAssertion {
  assertionId: string;
  email: string;
  /** The IdP's subject (NameID) as signed: what an account is linked to. */
  nameId: string;
  inResponseTo: string;
  notOnOrAfter: Date;
}

const refused = (code: string, message: string) => new ApiError(401, code, message);

function timestamp(value: string | null): Date | null {
  if (value === null || value === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Verifies a SAMLResponse: the assertion's signature with the IdP certificate (node-saml, which
 * also refuses several assertions and reads only the signed XML), issuer and audience (node-saml),
 * then — on the signed assertion only — the time window with the relay's clock, the recipient,
 * the response Destination and InResponseTo's presence. Request-id consumption and replay are
 * checked by the caller in SQL.
 */
export async function verifyResponse(
  settings: SamlSettingsRow,
  publicUrl: string,
  samlResponse: string,
  now: Date,
): Promise<VerifiedAssertion> {
  const acs = acsUrl(publicUrl, settings.org_id);
  let assertionXml: string;
  let profileEmail: string | null = null;
  let nameId = '';
  try {
    const { profile } = await samlFor(settings, publicUrl).validatePostResponseAsync({
      SAMLResponse: samlResponse,
    });
    if (profile === null) throw new Error('no profile');
    assertionXml = profile.getAssertionXml?.() ?? '';
    nameId = typeof profile.nameID === 'string' ? profile.nameID.trim() : '';
    const attributes = profile as unknown as Record<string, unknown>;
    for (const name of EMAIL_ATTRIBUTES) {
      const value = attributes[name];
      if (typeof value === 'string' && value.includes('@')) {
        profileEmail = value;
        break;
      }
    }
    if (profileEmail === null && typeof profile.nameID === 'string' && profile.nameID.includes('@'))
      profileEmail = profile.nameID;
  } catch (error) {
    throw refused(
      'SAML_RESPONSE_INVALID',
      `The SAML response was refused: ${error instanceof Error ? error.message : 'unreadable'}.`,
    );
  }
  // The response envelope is unsigned: only its Destination is read from it.
  const responseDoc = parseXml(Buffer.from(samlResponse, 'base64').toString('utf8'));
  const destination = responseDoc?.documentElement?.getAttribute('Destination') ?? null;
  if (destination !== null && destination !== acs)
    throw refused('SAML_WRONG_DESTINATION', 'The SAML response is addressed to another endpoint.');

  const assertion = parseXml(assertionXml)?.documentElement;
  if (assertion === undefined || assertion === null || assertion.localName !== 'Assertion')
    throw refused('SAML_RESPONSE_INVALID', 'The signed assertion could not be read.');
  const assertionId = assertion.getAttribute('ID') ?? '';
  if (assertionId === '') throw refused('SAML_RESPONSE_INVALID', 'The assertion has no ID.');
  const issuer = Array.from(assertion.childNodes).find(
    (n): n is Element =>
      (n as Element).localName === 'Issuer' && (n as Element).namespaceURI === NS_ASSERTION,
  );
  if (issuer?.textContent?.trim() !== settings.idp_entity_id)
    throw refused('SAML_WRONG_ISSUER', 'The SAML assertion was issued by another identity provider.');

  const skewed = (d: Date, sign: 1 | -1) => new Date(d.getTime() + sign * SAML_CLOCK_SKEW_MS);
  const conditions = children(assertion, NS_ASSERTION, 'Conditions')[0];
  const notBefore = timestamp(conditions?.getAttribute('NotBefore') ?? null);
  const condNotOnOrAfter = timestamp(conditions?.getAttribute('NotOnOrAfter') ?? null);
  if (notBefore !== null && now < skewed(notBefore, -1))
    throw refused('SAML_NOT_YET_VALID', 'The SAML assertion is not valid yet.');
  if (condNotOnOrAfter !== null && now >= skewed(condNotOnOrAfter, 1))
    throw refused('SAML_EXPIRED', 'The SAML assertion has expired.');

  const confirmation = children(assertion, NS_ASSERTION, 'SubjectConfirmationData').find(
    (e) => e.getAttribute('Recipient') === acs,
  );
  if (confirmation === undefined)
    throw refused('SAML_WRONG_RECIPIENT', 'The SAML assertion is not addressed to this service.');
  const subjectNotOnOrAfter = timestamp(confirmation.getAttribute('NotOnOrAfter'));
  if (subjectNotOnOrAfter === null)
    throw refused('SAML_RESPONSE_INVALID', 'The subject confirmation has no NotOnOrAfter.');
  if (now >= skewed(subjectNotOnOrAfter, 1)) throw refused('SAML_EXPIRED', 'The SAML assertion has expired.');
  const subjectNotBefore = timestamp(confirmation.getAttribute('NotBefore'));
  if (subjectNotBefore !== null && now < skewed(subjectNotBefore, -1))
    throw refused('SAML_NOT_YET_VALID', 'The SAML assertion is not valid yet.');

  const inResponseTo = confirmation.getAttribute('InResponseTo') ?? '';
  const responseInResponseTo = responseDoc?.documentElement?.getAttribute('InResponseTo') ?? null;
  if (inResponseTo === '' || (responseInResponseTo !== null && responseInResponseTo !== inResponseTo))
    throw refused('SAML_UNSOLICITED', 'The SAML response does not answer a sign-in started here.');

  if (nameId === '' || nameId.length > 1000)
    throw refused('SAML_RESPONSE_INVALID', 'The SAML assertion names no usable subject (NameID).');
  if (profileEmail === null)
    throw refused('SAML_NO_EMAIL', 'The SAML assertion names no email address (NameID or email attribute).');
  const email = profileEmail.trim().toLowerCase();
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email))
    throw refused('SAML_NO_EMAIL', 'The SAML assertion names no usable email address.');

  const expiry = [condNotOnOrAfter, subjectNotOnOrAfter]
    .filter((d): d is Date => d !== null)
    .reduce((a, b) => (a > b ? a : b));
  return { assertionId, email, nameId, inResponseTo, notOnOrAfter: skewed(expiry, 1) };
}

/**
 * Uses the assertion once: remembers its id until it expires (replay) and consumes the request id
 * it answers (InResponseTo). Call inside a transaction.
 */
/** Consumes the assertion and the request it answers; returns the client state the request kept. */
export async function consumeAssertion(
  tx: Queryable,
  orgId: string,
  verified: VerifiedAssertion,
  now: Date,
): Promise<{ clientState: string | null }> {
  await tx.query('DELETE FROM saml_assertions WHERE expires_at <= $1', [now]);
  const fresh = await tx.query(
    `INSERT INTO saml_assertions (org_id, assertion_id, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING assertion_id`,
    [orgId, verified.assertionId, verified.notOnOrAfter],
  );
  if (fresh.length === 0)
    throw refused('SAML_REPLAYED', 'This SAML assertion was already used; sign in again.');
  const request = await tx.query<{ client_state: string | null }>(
    'DELETE FROM saml_requests WHERE id = $1 AND org_id = $2 AND expires_at > $3 RETURNING client_state',
    [verified.inResponseTo, orgId, now],
  );
  const [answered] = request;
  if (answered === undefined)
    throw refused(
      'SAML_UNSOLICITED',
      'The SAML response answers no pending sign-in (unknown, used or expired request).',
    );
  return { clientState: answered.client_state };
}

/** Whom an assertion signs in, or the existing account it may not sign into before a link. */
export type SsoAccount = { kind: 'user'; user: UserRow } | { kind: 'not_linked'; user: UserRow };

/** True when the account has something of its own to protect: a password or a second factor. */
async function hasOwnCredential(tx: Queryable, user: UserRow): Promise<boolean> {
  return user.password_hash !== null || user.totp_enabled_at !== null || (await hasPasskey(tx, user.id));
}

/**
 * Finds the org's user for the asserted email, or provisions one with the default role (linked
 * to the assertion's subject). An existing account is signed into only when it is linked to this
 * IdP and this NameID, or when it has no credential of its own yet (an invited user, or one made
 * by SSO before links existed): then the first assertion links it. Anyone else with a password
 * or second factor must link first, or whoever controls the IdP could become them.
 */
export async function accountForAssertion(
  tx: Queryable,
  settings: SamlSettingsRow,
  verified: VerifiedAssertion,
  now: Date,
): Promise<SsoAccount> {
  const [existing] = await tx.query<UserRow>(
    'SELECT * FROM users WHERE org_id = $1 AND email = $2 FOR UPDATE',
    [settings.org_id, verified.email],
  );
  if (existing !== undefined) {
    if (existing.status !== 'active')
      throw new ApiError(403, 'USER_DEACTIVATED', 'This account is deactivated.');
    const linkedToThisIdp = existing.sso_idp_entity_id === settings.idp_entity_id;
    if (linkedToThisIdp && existing.sso_name_id === verified.nameId) return { kind: 'user', user: existing };
    if (linkedToThisIdp || (await hasOwnCredential(tx, existing)))
      return { kind: 'not_linked', user: existing };
    const linked = await linkSsoIdentity(tx, existing, settings.idp_entity_id, verified.nameId, now, {
      actor: 'saml',
      via: 'first_sso_sign_in',
    });
    return { kind: 'user', user: linked };
  }
  const id = newId();
  const [created] = await tx.query<UserRow>(
    `INSERT INTO users (id, org_id, email, role, email_verified_at, created_at, sso_idp_entity_id, sso_name_id, sso_linked_at)
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $5) RETURNING *`,
    [
      id,
      settings.org_id,
      verified.email,
      settings.default_role,
      now,
      settings.idp_entity_id,
      verified.nameId,
    ],
  );
  await recordAuthEvent(tx, {
    orgId: settings.org_id,
    userId: id,
    actor: 'saml',
    kind: 'user_created',
    detail: { role: settings.default_role, via: 'saml_jit', nameId: verified.nameId },
    at: now,
  });
  return { kind: 'user', user: created as UserRow };
}

/** Records that assertions of this IdP for this NameID may sign the user in; audited as sso_linked. */
export async function linkSsoIdentity(
  tx: Queryable,
  user: UserRow,
  idpEntityId: string,
  nameId: string,
  now: Date,
  by: { actor: string; via: 'first_sso_sign_in' | 'credential' | 'owner'; ip?: string | null },
): Promise<UserRow> {
  const [linked] = await tx.query<UserRow>(
    'UPDATE users SET sso_idp_entity_id = $2, sso_name_id = $3, sso_linked_at = $4 WHERE id = $1 RETURNING *',
    [user.id, idpEntityId, nameId, now],
  );
  await recordAuthEvent(tx, {
    orgId: user.org_id,
    userId: user.id,
    actor: by.actor,
    kind: 'sso_linked',
    detail: {
      idpEntityId,
      nameId,
      via: by.via,
      ...(user.sso_name_id === null ? {} : { replaced: user.sso_name_id }),
    },
    ip: by.ip ?? null,
    at: now,
  });
  return linked as UserRow;
}

/** What an SSO sign-in yields: a session, or the same second step a password sign-in asks for. */
export type SamlSignIn =
  | { kind: 'session'; tokens: IssuedTokens }
  | { kind: 'second_factor'; mfaToken: string; factors: string[] };

/**
 * Signs a user in after an assertion the way password sign-in does after a password: an enrolled
 * authenticator app or passkey is asked for (POST /v1/auth/mfa, /v1/auth/mfa/passkey) before any
 * session exists, and an org that requires a second factor gets an enrolment-only session.
 */
export async function samlSignIn(
  tx: Queryable,
  user: UserRow,
  now: Date,
  ip: string,
  userAgent: string | undefined,
): Promise<SamlSignIn> {
  const passkey = await hasPasskey(tx, user.id);
  if (user.totp_enabled_at !== null || passkey) {
    const mfaToken = await issueLink(tx, 'mfa', user.id, now);
    const factors = [...(user.totp_enabled_at !== null ? ['totp'] : []), ...(passkey ? ['passkey'] : [])];
    // Like a password sign-in, the sign_in event is written when the second step opens a session.
    return { kind: 'second_factor', mfaToken, factors };
  }
  const [org] = await tx.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
    user.org_id,
  ]);
  const stage = parseAuthSettings(org?.settings).requireSecondFactor ? 'enrol' : 'full';
  const tokens = await createSession(tx, {
    orgId: user.org_id,
    userId: user.id,
    stage,
    now,
    ip,
    userAgent: userAgent ?? null,
  });
  await recordAuthEvent(tx, {
    orgId: user.org_id,
    userId: user.id,
    actor: `user:${user.id}`,
    kind: 'sign_in',
    detail: { sessionId: tokens.sessionId, stage, method: 'saml' },
    ip,
    at: now,
  });
  return { kind: 'session', tokens };
}

/** How long a browser's one-time code may be traded for a session. */
export const SAML_CODE_TTL_MS = 2 * 60_000;

/** A single-use code standing for a signed-in user, for the browser redirect after the ACS. */
export async function issueSamlCode(tx: Queryable, user: UserRow, now: Date): Promise<string> {
  const code = randomToken(32);
  await tx.query('DELETE FROM saml_codes WHERE expires_at <= $1', [now]);
  await tx.query('INSERT INTO saml_codes (code_hash, org_id, user_id, expires_at) VALUES ($1, $2, $3, $4)', [
    sha256(code),
    user.org_id,
    user.id,
    new Date(now.getTime() + SAML_CODE_TTL_MS),
  ]);
  return code;
}

/** Uses a code once: its user if the code is known, unused, unexpired and the user still active. */
export async function consumeSamlCode(tx: Queryable, code: string, now: Date): Promise<UserRow | null> {
  const rows = await tx.query<{ user_id: string }>(
    `UPDATE saml_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
     RETURNING user_id`,
    [sha256(code), now],
  );
  const userId = rows[0]?.user_id;
  if (userId === undefined) return null;
  const [user] = await tx.query<UserRow>(`SELECT * FROM users WHERE id = $1 AND status = 'active'`, [userId]);
  return user ?? null;
}
