import { Type } from 'typebox';
import {
  NoContent,
  Passkey,
  PasskeyAuthenticationOptions,
  PasskeyList,
  PasskeyRegistrationOptions,
  SessionTokens,
} from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { passkeyRegistrationOptions, registerPasskey, removePasskey } from '../auth/passkey-registration.ts';
import {
  type PasskeySignInDeps,
  passwordlessOptions,
  secondStepPasskeyOptions,
  secondStepWithPasskey,
  signInWithPasskey,
} from '../auth/passkey-sign-in.ts';
import {
  passkeyDecoyKey,
  passkeyDto,
  type RelyingParty,
  relyingParty,
  userPasskeys,
} from '../auth/passkeys.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { signInContext, tokensBody } from '../auth/sign-in.ts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '../auth/webauthn.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type Principal, principalOf, publicRoute, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

const B64url = Type.String({ minLength: 1, maxLength: 16_384, pattern: '^[A-Za-z0-9_-]+$' });
const CredentialId = Type.String({ minLength: 1, maxLength: 1_400, pattern: '^[A-Za-z0-9_-]+$' });
const LinkToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const Transports = Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 10 });
const Extras = {
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true })),
};

/** A credential as the browser's PublicKeyCredential.toJSON() gives it after create(). */
const RegistrationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64url,
      attestationObject: B64url,
      transports: Type.Optional(Transports),
    }),
    ...Extras,
  },
  { additionalProperties: false },
);

/** An assertion as the browser's PublicKeyCredential.toJSON() gives it after get(). */
const AuthenticationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64url,
      authenticatorData: B64url,
      signature: B64url,
      userHandle: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' })),
    }),
    ...Extras,
  },
  { additionalProperties: false },
);

/** The signed-in person themselves (a session, not an API key): who may manage passkeys. */
function passkeyOwner(p: Principal, ip: string) {
  if (p.sessionId === null || p.userId === null)
    throw new ApiError(
      400,
      'NOT_A_SESSION',
      'Manage passkeys while signed in as yourself, not with an API key.',
    );
  return { orgId: p.orgId, userId: p.userId, sessionId: p.sessionId, actor: p.actor, ip };
}

const enrolment = { ...requires('account.self'), duringEnrolment: true };
const secondStep = publicRoute('second sign-in step: the MFA token from /v1/auth/login is the credential');
const tags = ['auth'];

/** Passkeys (WebAuthn): registration while signed in, second factor after the password, passwordless. */
export const passkeyRoutes: RouteModule = (app, deps) => {
  passkeyRegistrationRoutes(app, deps);
  passkeySignInRoutes(app, deps);
};

/** Registering, listing and removing one's own passkeys. */
const passkeyRegistrationRoutes: RouteModule = (app, { db, clock, config }) => {
  const rp = relyingParty(config);

  app.post(
    '/v1/auth/passkeys/options',
    {
      config: enrolment,
      schema: {
        summary: 'Options to register a passkey',
        description: 'Needs a recent sign-in or POST /v1/auth/reauth.',
        tags,
        response: { 200: PasskeyRegistrationOptions, ...errorResponses },
      },
    },
    async (request) => {
      const owner = passkeyOwner(principalOf(request), request.ip);
      // A stolen access token alone must not be able to register a passkey of its own (finding 5).
      await requireRecentAuth(db, principalOf(request), clock());
      return passkeyRegistrationOptions(db, rp, owner.userId, clock());
    },
  );

  app.post(
    '/v1/auth/passkeys',
    {
      config: enrolment,
      schema: {
        summary: 'Register a passkey',
        description:
          "The browser's create() answer to the options; the passkey then counts as a second factor.",
        tags,
        body: Type.Object({ response: RegistrationResponse }, { additionalProperties: false }),
        response: { 201: Passkey, ...errorResponses },
      },
    },
    async (request, reply) => {
      const owner = passkeyOwner(principalOf(request), request.ip);
      const now = clock();
      // Checked again here: options fetched in time do not stretch the proof past its minutes.
      await requireRecentAuth(db, principalOf(request), now);
      const response = request.body.response as RegistrationResponseJSON;
      const created = await registerPasskey(db, { rp, log: request.log }, owner, response, now);
      return reply.code(201).send(passkeyDto(created));
    },
  );

  app.get(
    '/v1/auth/passkeys',
    {
      config: enrolment,
      schema: { summary: 'List your passkeys', tags, response: { 200: PasskeyList, ...errorResponses } },
    },
    async (request) => {
      const owner = passkeyOwner(principalOf(request), request.ip);
      return { passkeys: (await userPasskeys(db, owner.userId)).map(passkeyDto) };
    },
  );

  app.delete(
    '/v1/auth/passkeys/:id',
    {
      config: requires('account.self'),
      schema: {
        summary: 'Remove one of your passkeys',
        description: 'Refused for the last second factor where the org requires one.',
        tags,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const owner = passkeyOwner(principalOf(request), request.ip);
      await removePasskey(db, owner, request.params.id, clock());
      return reply.code(204).send();
    },
  );
};

/** What passkey sign-in needs for one request's log; the decoy key is read once per process. */
function passkeySignInDeps(db: Database, rp: RelyingParty) {
  // Read lazily so that buildApp stays free of I/O.
  let decoyKey: Promise<Buffer> | undefined;
  return (log: PasskeySignInDeps['log']): PasskeySignInDeps => ({
    db,
    rp,
    log,
    decoyKey: () => {
      decoyKey ??= passkeyDecoyKey(db);
      return decoyKey;
    },
  });
}

/** Passkey sign-in: the second step after a password, and passwordless sign-in. */
const passkeySignInRoutes: RouteModule = (app, { db, clock, config }) => {
  const signInDeps = passkeySignInDeps(db, relyingParty(config));
  const context = (request: { ip: string; headers: { 'user-agent'?: string } }) =>
    signInContext(request, clock());

  app.post(
    '/v1/auth/mfa/passkey/options',
    {
      config: secondStep,
      schema: {
        summary: 'Second sign-in step: passkey options',
        tags,
        body: Type.Object({ mfaToken: LinkToken }, { additionalProperties: false }),
        response: { 200: PasskeyAuthenticationOptions, ...errorResponses },
      },
    },
    async (request) => secondStepPasskeyOptions(signInDeps(request.log), request.body.mfaToken, clock()),
  );

  app.post(
    '/v1/auth/mfa/passkey',
    {
      config: secondStep,
      schema: {
        summary: 'Second sign-in step: passkey',
        tags,
        body: Type.Object(
          { mfaToken: LinkToken, response: AuthenticationResponse },
          { additionalProperties: false },
        ),
        response: { 201: SessionTokens, ...errorResponses },
      },
    },
    async (request, reply) => {
      const response = request.body.response as AuthenticationResponseJSON;
      const deps = signInDeps(request.log);
      const tokens = await secondStepWithPasskey(deps, request.body.mfaToken, response, context(request));
      return reply.code(201).send(tokensBody(tokens));
    },
  );

  app.post(
    '/v1/auth/passkey/options',
    {
      config: publicRoute('passwordless sign-in, first step: hands out a challenge to sign'),
      schema: {
        summary: 'Passwordless sign-in: options',
        description:
          "With an email, the browser is told that account's passkeys; without, it offers discoverable ones.",
        tags,
        body: Type.Object(
          { email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })) },
          { additionalProperties: false },
        ),
        response: { 200: PasskeyAuthenticationOptions, ...errorResponses },
      },
    },
    async (request) =>
      passwordlessOptions(signInDeps(request.log), request.ip, request.body.email?.toLowerCase(), clock()),
  );

  app.post(
    '/v1/auth/passkey',
    {
      config: publicRoute('passwordless sign-in: a user-verified passkey assertion is the credential'),
      schema: {
        summary: 'Passwordless sign-in with a passkey',
        tags,
        body: Type.Object({ response: AuthenticationResponse }, { additionalProperties: false }),
        response: { 201: SessionTokens, ...errorResponses },
      },
    },
    async (request, reply) => {
      const response = request.body.response as AuthenticationResponseJSON;
      const tokens = await signInWithPasskey(signInDeps(request.log), response, context(request));
      return reply.code(201).send(tokensBody(tokens));
    },
  );
};
