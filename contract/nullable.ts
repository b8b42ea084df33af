import { type TSchema, Type } from 'typebox';

/** A field the wire always carries, null when there is nothing to say. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
