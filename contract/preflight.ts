import { type Static, Type } from 'typebox';
import { RecipientLocalTimeSchema } from './contacts.ts';
import { EncodingSchema } from './messages.ts';
import { Nullable } from './nullable.ts';

export const RefusalSchema = Type.Object(
  {
    code: Type.String({ description: 'Stable code, e.g. OPTED_OUT, QUIET_HOURS, SENSITIVE_CONTENT' }),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Facts of the refusal; shape per code',
    }),
  },
  { description: 'One rule that refuses the text' },
);

export const PreflightSchema = Type.Object(
  {
    allowed: Type.Boolean(),
    refusals: Type.Array(RefusalSchema),
    finalText: Type.String({ description: 'Exactly what would be sent, first-contact notice included' }),
    firstContactNotice: Type.Object({ identification: Type.Boolean(), optOut: Type.Boolean() }),
    segments: Type.Integer(),
    encoding: EncodingSchema,
    recipientLocalTime: Nullable(RecipientLocalTimeSchema),
    nextAllowedAt: Nullable(
      Type.String({ format: 'date-time', description: 'When quiet hours refuse: the earliest instant' }),
    ),
    schedulable: Type.Boolean({
      description: 'Refused for quiet hours alone: may be scheduled for nextAllowedAt',
    }),
    sendAt: Nullable(Type.String({ format: 'date-time' })),
  },
  {
    description:
      'What POST /v1/messages would decide for the same body; a refusal is an answer, not an error',
  },
);
export type PreflightBody = Static<typeof PreflightSchema>;
