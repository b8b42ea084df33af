import { type Static, Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** How carriers treat a sender number; it decides the send rate the relay keeps to. */
export const SenderNumberTypeSchema = Type.Union(
  [Type.Literal('long_code'), Type.Literal('toll_free'), Type.Literal('short_code')],
  { description: 'long_code, toll_free or short_code' },
);
export type SenderNumberType = Static<typeof SenderNumberTypeSchema>;

export const SenderNumberSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    e164: Type.String({ description: 'E.164' }),
    label: Nullable(Type.String()),
    numberType: SenderNumberTypeSchema,
    defaultAssigneeUserId: Nullable(
      Type.String({
        format: 'uuid',
        description:
          'Who gets first replies to this number when no rep has texted the customer; null: the unassigned queue. Routing skips a user no longer active.',
      }),
    ),
  },
  { description: "One of the organisation's sender numbers" },
);
export type SenderNumber = Static<typeof SenderNumberSchema>;

export const NumberListSchema = Type.Object(
  {
    numbers: Type.Array(SenderNumberSchema),
    provider: Type.String({
      description:
        'The SMS network the relay sends through, as its operator set it: plivo, or sandbox (simulated phones, nothing leaves)',
    }),
  },
  { description: "The organisation's sender numbers" },
);
