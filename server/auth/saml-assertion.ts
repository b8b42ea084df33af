import type { Element } from '@xmldom/xmldom';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type SamlReturn, samlFor } from './saml-request.ts';
import { acsUrl, type SamlSettingsRow } from './saml-settings.ts';
import { children, NS_ASSERTION, parseXml } from './saml-xml.ts';

/** Clock skew tolerated on NotBefore / NotOnOrAfter. */
export const SAML_CLOCK_SKEW_MS = 2 * 60_000;

const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];

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
 * The assertion as node-saml verified it: its signature with the IdP certificate (several
 * assertions refused, only the signed XML read), issuer and audience; its subject and address.
 */
async function signedProfile(
  settings: SamlSettingsRow,
  publicUrl: string,
  samlResponse: string,
): Promise<{ assertionXml: string; nameId: string; profileEmail: string | null }> {
  try {
    const { profile } = await samlFor(settings, publicUrl).validatePostResponseAsync({
      SAMLResponse: samlResponse,
    });
    if (profile === null) throw new Error('no profile');
    const nameId = typeof profile.nameID === 'string' ? profile.nameID.trim() : '';
    const attributes = profile as unknown as Record<string, unknown>;
    const attribute = EMAIL_ATTRIBUTES.map((name) => attributes[name]).find(
      (value): value is string => typeof value === 'string' && value.includes('@'),
    );
    const fromNameId =
      typeof profile.nameID === 'string' && profile.nameID.includes('@') ? profile.nameID : null;
    return { assertionXml: profile.getAssertionXml?.() ?? '', nameId, profileEmail: attribute ?? fromNameId };
  } catch (error) {
    throw refused(
      'SAML_RESPONSE_INVALID',
      `The SAML response was refused: ${error instanceof Error ? error.message : 'unreadable'}.`,
    );
  }
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
  const { assertionXml, nameId, profileEmail } = await signedProfile(settings, publicUrl, samlResponse);
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
 * it answers (InResponseTo); returns the client state that request kept. Call inside a transaction.
 */
export async function consumeAssertion(
  tx: Queryable,
  orgId: string,
  verified: VerifiedAssertion,
  now: Date,
): Promise<{ clientState: string | null; returnTo: SamlReturn }> {
  await tx.query('DELETE FROM saml_assertions WHERE expires_at <= $1', [now]);
  const fresh = await tx.query(
    `INSERT INTO saml_assertions (org_id, assertion_id, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING assertion_id`,
    [orgId, verified.assertionId, verified.notOnOrAfter],
  );
  if (fresh.length === 0)
    throw refused('SAML_REPLAYED', 'This SAML assertion was already used; sign in again.');
  const request = await tx.query<{ client_state: string | null; return_to: SamlReturn }>(
    'DELETE FROM saml_requests WHERE id = $1 AND org_id = $2 AND expires_at > $3 RETURNING client_state, return_to',
    [verified.inResponseTo, orgId, now],
  );
  const [answered] = request;
  if (answered === undefined)
    throw refused(
      'SAML_UNSOLICITED',
      'The SAML response answers no pending sign-in (unknown, used or expired request).',
    );
  return { clientState: answered.client_state, returnTo: answered.return_to };
}
