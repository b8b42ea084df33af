import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

const IsoTime = Type.String({ format: 'date-time' });

const Standing = Type.Union(
  [Type.Literal('current'), Type.Literal('never'), Type.Literal('changed'), Type.Literal('yearly')],
  {
    description:
      'current: acknowledged this version within a year; never; changed: an older version; yearly: more than a year ago',
  },
);

/** The org's texting policy and where the caller stands with it (GET /v1/policy). */
export const TextingPolicySchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    body: Type.String({ description: 'The policy as plain text' }),
    publishedAt: Nullable(
      Type.String({ format: 'date-time', description: 'Null while it is the default, never edited' }),
    ),
    required: Type.Boolean({ description: 'The org requires it acknowledged before texting' }),
    acknowledgedVersion: Nullable(Type.Integer()),
    acknowledgedAt: Nullable(IsoTime),
    standing: Standing,
  },
  { description: "The org's texting policy" },
);

export const PolicyAcknowledgedSchema = Type.Object(
  { version: Type.Integer(), acknowledgedAt: IsoTime },
  { description: 'The acknowledgement, recorded' },
);

export const PolicyPublishedSchema = Type.Object(
  { version: Type.Integer(), publishedAt: IsoTime },
  { description: 'The new version; everyone acknowledges it before their next text' },
);

/** Who has acknowledged the current version (GET /v1/policy/acknowledgements). */
export const PolicyAcknowledgementListSchema = Type.Object(
  {
    version: Type.Integer(),
    people: Type.Array(
      Type.Object({
        userId: Type.String({ format: 'uuid' }),
        email: Type.String(),
        name: Nullable(Type.String()),
        role: Type.String(),
        acknowledgedVersion: Nullable(Type.Integer()),
        acknowledgedAt: Nullable(IsoTime),
        standing: Standing,
      }),
      { description: 'Active people, those who must acknowledge first' },
    ),
  },
  { description: 'Acknowledgements of the current policy' },
);
