import { Type } from 'typebox';

/**
 * Identity on the wire: sign-in answers, second factors, passkeys, sessions and the signed-in
 * principal. Every property a route sends is listed (the relay drops any that is not).
 */

const IsoTime = Type.String({ format: 'date-time' });
const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);

/** A new session's tokens (201 from every sign-in method, 200 from refresh). */
export const SessionTokens = Type.Object(
  {
    sessionId: Type.String({ format: 'uuid' }),
    accessToken: Type.String({ description: 'Bearer token for every other route; short-lived' }),
    accessTokenExpiresAt: IsoTime,
    refreshToken: Type.String({
      description: 'Single use: trade it at POST /v1/auth/refresh for new tokens',
    }),
    requireSignInEachBrowserSession: Type.Boolean({
      description:
        "The org's policy: when true, a client may not keep the refresh token across browser restarts (sign in again each browser session)",
    }),
    secondFactorEnrolmentRequired: Type.Optional(
      Type.Literal(true, {
        description: 'The org requires a second factor: this session may only enrol one until it does',
      }),
    ),
  },
  { description: 'A new session' },
);

/** The second step a first factor (password, SSO assertion) still needs. */
export const SecondFactorRequired = Type.Object(
  {
    mfaRequired: Type.Literal(true),
    mfaToken: Type.String({ description: 'Send it to POST /v1/auth/mfa or /v1/auth/mfa/passkey' }),
    factors: Type.Array(Type.String(), { description: "The user's enrolled factors: 'totp', 'passkey'" }),
  },
  { description: 'A second factor is required before a session opens' },
);

/** An empty answer (204): no body at all, so the handler sends nothing. */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'No content' });

/** A status word answering an identity change. */
export const StatusAnswer = (status: string, description: string) =>
  Type.Object({ status: Type.Literal(status) }, { description });

/** A second factor a password reset removed because it was added lately. */
export const RemovedFactor = Type.Object(
  {
    factor: Type.Union([Type.Literal('passkey'), Type.Literal('totp')]),
    id: Type.Optional(Type.String({ description: "The passkey's id; absent for the authenticator app" })),
    addedAt: IsoTime,
  },
  { description: 'A factor removed by the reset' },
);

export const PasswordSet = Type.Object(
  { status: Type.Literal('password_set'), removedFactors: Type.Array(RemovedFactor) },
  { description: 'The new password is set; every session was signed out' },
);

export const TotpEnrolment = Type.Object(
  { secret: Type.String(), otpauthUri: Type.String() },
  { description: 'The authenticator secret to scan; confirm it with a code' },
);

export const TotpEnabled = Type.Object(
  {
    enabled: Type.Literal(true),
    recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each works once' }),
  },
  { description: 'The authenticator app is enrolled' },
);

export const Reauthenticated = Type.Object(
  { reauthenticatedUntil: IsoTime },
  { description: 'Sensitive changes are allowed until this time' },
);

/** A registered passkey, without its public key. */
export const Passkey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    credentialId: Type.String(),
    transports: Type.Array(Type.String()),
    deviceType: Type.Union([Type.String(), Type.Null()]),
    backedUp: Type.Boolean(),
    createdAt: IsoTime,
    lastUsedAt: NullableIsoTime,
  },
  { description: 'A passkey' },
);

export const PasskeyList = Type.Object(
  { passkeys: Type.Array(Passkey) },
  { description: "The user's passkeys" },
);

const Descriptor = Type.Object(
  { id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) },
  { additionalProperties: true },
);

/** WebAuthn options for navigator.credentials.create() (PublicKeyCredentialCreationOptionsJSON). */
export const PasskeyRegistrationOptions = Type.Object(
  {
    rp: Type.Object({ name: Type.String(), id: Type.Optional(Type.String()) }),
    user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
    challenge: Type.String(),
    pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Number(), type: Type.String() })),
    timeout: Type.Optional(Type.Number()),
    excludeCredentials: Type.Optional(Type.Array(Descriptor)),
    authenticatorSelection: Type.Optional(Type.Object({}, { additionalProperties: true })),
    hints: Type.Optional(Type.Array(Type.String())),
    attestation: Type.Optional(Type.String()),
    attestationFormats: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true, description: 'Options for navigator.credentials.create()' },
);

/** WebAuthn options for navigator.credentials.get() (PublicKeyCredentialRequestOptionsJSON). */
export const PasskeyAuthenticationOptions = Type.Object(
  {
    challenge: Type.String(),
    timeout: Type.Optional(Type.Number()),
    rpId: Type.Optional(Type.String()),
    allowCredentials: Type.Optional(Type.Array(Descriptor)),
    userVerification: Type.Optional(Type.String()),
    hints: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true, description: 'Options for navigator.credentials.get()' },
);

/** One of the caller's open sessions. */
export const SessionInfo = Type.Object({
  id: Type.String({ format: 'uuid' }),
  createdAt: IsoTime,
  lastSeenAt: IsoTime,
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session this request came with' }),
});

export const SessionList = Type.Object(
  { sessions: Type.Array(SessionInfo) },
  { description: 'Open sessions' },
);

/** Who the caller is (GET /v1/me). */
export const Me = Type.Object(
  {
    orgId: Type.String({ format: 'uuid' }),
    orgName: Type.String(),
    role: Type.String(),
    permissions: Type.Array(Type.String()),
    keyId: Type.Union([Type.String(), Type.Null()]),
    userId: Type.Union([Type.String(), Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
    displayName: Type.String(),
    seesPii: Type.Boolean(),
    extension: Type.Object({
      templates: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), body: Type.String() })),
      locked: Type.Object({
        notifications: Type.Union([
          Type.Literal('off'),
          Type.Literal('mine'),
          Type.Literal('all'),
          Type.Null(),
        ]),
      }),
    }),
  },
  { description: 'The signed-in principal, its permissions and the extension settings its org set' },
);
