import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** A legal hold: while active, retention purges nothing of its contact phone or conversation. */
export const LegalHold = Type.Object({
  id: Type.String({ format: 'uuid' }),
  target: Type.Union([
    Type.Object({ type: Type.Literal('phone'), phone: Type.String({ description: 'E.164' }) }),
    Type.Object({ type: Type.Literal('conversation'), conversationId: Type.String({ format: 'uuid' }) }),
  ]),
  reason: Type.String(),
  createdBy: Type.String({ description: '`user:<id>`, `api-key:<id>` or `cli`' }),
  createdAt: Type.String({ format: 'date-time', description: "The relay's clock" }),
  releasedBy: Nullable(Type.String()),
  releasedAt: Nullable(Type.String({ format: 'date-time', description: 'null while the hold is active' })),
});

export const LegalHoldAnswer = Type.Object({ hold: LegalHold });
export const LegalHoldList = Type.Object({ holds: Type.Array(LegalHold, { description: 'Newest first' }) });

/** Exactly one of phone and conversationId. */
export const NewLegalHold = Type.Object(
  {
    phone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        description: 'Hold every conversation with this contact phone',
      }),
    ),
    conversationId: Type.Optional(Type.String({ format: 'uuid', description: 'Hold this conversation' })),
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Why (a matter, a request); kept in the audit log',
    }),
  },
  { additionalProperties: false },
);

export const LegalHoldQuery = Type.Object(
  { active: Type.Optional(Type.Boolean({ description: 'Only holds not yet released' })) },
  { additionalProperties: false },
);
