import { Type } from 'typebox';
import { SecondFactorRequired, SessionTokens } from './auth.ts';
import { User } from './users.ts';

/** SAML single sign-on on the wire: the org's IdP settings, sign-in answers, account links. */

/** The org's SAML settings and what to give the IdP. */
export const SamlSettings = Type.Object(
  {
    configured: Type.Literal(true),
    idpEntityId: Type.String(),
    ssoUrl: Type.String(),
    idpCertificate: Type.String({ description: 'PEM' }),
    defaultRole: Type.String({ description: 'Role of users created by their first SSO sign-in' }),
    ssoOnly: Type.Boolean({ description: 'Password and passkey sign-in are refused' }),
    spEntityId: Type.String(),
    acsUrl: Type.String(),
    loginUrl: Type.String(),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { description: 'SAML settings' },
);

export const SamlSettingsOrNone = Type.Union([
  SamlSettings,
  Type.Object(
    {
      configured: Type.Literal(false),
      spEntityId: Type.String({ description: 'The entity id to give the IdP' }),
      acsUrl: Type.String({ description: 'Where the IdP posts its answer' }),
      loginUrl: Type.String({ description: 'Where sign-in through SSO starts' }),
    },
    { description: 'No SAML configured yet: what the IdP needs to know about this relay' },
  ),
]);

/** A session (201) traded for a one-time code, with the account it opened. */
export const SsoSessionTokens = Type.Object(
  { ...SessionTokens.properties, email: Type.String() },
  { description: 'A new session and the account it belongs to' },
);
export const SsoSecondFactorRequired = Type.Object(
  { ...SecondFactorRequired.properties, email: Type.String() },
  { description: 'A second factor is required; the account is named' },
);

export const SsoLinked = Type.Object(
  { linked: Type.Literal(true), email: Type.String() },
  { description: 'The account is linked to the IdP subject; sign in through SSO again' },
);

export const SsoLink = Type.Object(
  {
    user: User,
    sso: Type.Object({
      idpEntityId: Type.Union([Type.String(), Type.Null()]),
      nameId: Type.Union([Type.String(), Type.Null()]),
      linkedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  },
  { description: 'The user and the IdP subject they are linked to' },
);
