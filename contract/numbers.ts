import { type Static, Type } from 'typebox';
import { Nullable } from './nullable.ts';

export const SenderNumberSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    e164: Type.String({ description: 'E.164' }),
    label: Nullable(Type.String()),
    numberType: Type.String({ description: 'long_code, toll_free or short_code' }),
  },
  { description: "One of the organisation's sender numbers" },
);
export type SenderNumber = Static<typeof SenderNumberSchema>;

export const NumberListSchema = Type.Object(
  { numbers: Type.Array(SenderNumberSchema) },
  { description: "The organisation's sender numbers" },
);
