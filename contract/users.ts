import { Type } from 'typebox';

/** An org's people, roles and API keys on the wire (users.manage, roles.manage, org.manage). */

const IsoTime = Type.String({ format: 'date-time' });
const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);

/** A user of the org, as admins see them. */
export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    role: Type.String(),
    status: Type.String({ description: "'active' or 'deactivated'" }),
    emailVerified: Type.Boolean(),
    secondFactor: Type.Boolean({ description: 'An authenticator app is enrolled' }),
    createdAt: IsoTime,
  },
  { description: 'A user' },
);

export const UserList = Type.Object({ users: Type.Array(User) }, { description: "The org's users" });
export const UserAnswer = Type.Object({ user: User }, { description: 'The user as it is now' });
export const InvitedUser = Type.Object(
  {
    user: User,
    invitationMailed: Type.Boolean({
      description: 'False when the mail failed: resend it as a password reset',
    }),
  },
  { description: 'The invited user' },
);

/** A built-in or custom role and its permissions. */
export const Role = Type.Object({
  id: Type.Optional(Type.String({ format: 'uuid', description: 'Custom roles only' })),
  name: Type.String(),
  builtIn: Type.Boolean(),
  permissions: Type.Array(Type.String()),
});

export const RoleList = Type.Object(
  {
    permissions: Type.Array(Type.String(), { description: 'Every permission there is' }),
    roles: Type.Array(Role),
  },
  { description: 'Built-in and custom roles' },
);
export const RoleAnswer = Type.Object({ role: Role }, { description: 'The new custom role' });

/** An API key without its secret. */
export const ApiKey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.Union([Type.String(), Type.Null()]),
    prefix: Type.String({ description: 'Enough to recognise the key; the secret is never stored' }),
    role: Type.String(),
    userId: Type.Union([Type.String(), Type.Null()], { description: 'The user the key acts as, if bound' }),
    createdAt: IsoTime,
    lastUsedAt: NullableIsoTime,
    revokedAt: NullableIsoTime,
  },
  { description: 'An API key' },
);

export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKey) }, { description: "The org's API keys" });
export const CreatedApiKey = Type.Object(
  { key: Type.String({ description: 'The whole secret, shown this once' }), apiKey: ApiKey },
  { description: 'The new key' },
);
