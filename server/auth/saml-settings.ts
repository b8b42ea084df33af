import { X509Certificate } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { recordAuthEvent } from './auth-events.ts';
import { children, NS_DS, NS_MD, parseXml } from './saml-xml.ts';

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

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

/** Where the IdP must send people back, known before any IdP is set (the admin configures the IdP with it). */
export function serviceProviderDto(publicUrl: string, orgId: string) {
  return {
    spEntityId: spEntityId(publicUrl, orgId),
    acsUrl: acsUrl(publicUrl, orgId),
    loginUrl: `${spEntityId(publicUrl, orgId)}/login`,
  };
}

export function settingsDto(s: SamlSettingsRow, publicUrl: string) {
  return {
    configured: true as const,
    idpEntityId: s.idp_entity_id,
    ssoUrl: s.sso_url,
    idpCertificate: s.idp_cert,
    defaultRole: s.default_role,
    ssoOnly: s.sso_only,
    ...serviceProviderDto(publicUrl, s.org_id),
    updatedAt: new Date(s.updated_at).toISOString(),
  };
}

/** IdP settings as an owner sends them: metadata XML, or the three fields themselves. */
export interface IdpInput {
  metadataXml?: string;
  idpEntityId?: string;
  ssoUrl?: string;
  idpCertificate?: string;
}

/** Reads the IdP fields from metadata or from the fields, never from a mix of both. */
export function idpFromInput(body: IdpInput): IdpFields {
  if (body.metadataXml !== undefined) {
    if (body.idpEntityId !== undefined || body.ssoUrl !== undefined || body.idpCertificate !== undefined)
      throw new ApiError(
        400,
        'METADATA_OR_FIELDS',
        'Send either "metadataXml" or "idpEntityId", "ssoUrl" and "idpCertificate", not both.',
      );
    return parseIdpMetadata(body.metadataXml);
  }
  if (body.idpEntityId === undefined || body.ssoUrl === undefined || body.idpCertificate === undefined)
    throw new ApiError(
      400,
      'METADATA_OR_FIELDS',
      'Send "metadataXml", or all of "idpEntityId", "ssoUrl" and "idpCertificate".',
    );
  return {
    idpEntityId: body.idpEntityId,
    ssoUrl: checkSsoUrl(body.ssoUrl),
    idpCert: normalizeCertificate(body.idpCertificate),
  };
}
