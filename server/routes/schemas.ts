import { Type } from 'typebox';

/** Shapes shared by several routes; the contact reference lives in the wire contract. */
export {
  ContactRefSchema,
  CrmIdSchema,
  CrmRecordId,
  ObjectTypeSchema as ObjectType,
} from '../../contract/contact-ref.ts';

export const E164 = Type.String({
  pattern: '^\\+[1-9][0-9]{6,14}$',
  maxLength: 16,
  description: 'E.164 phone number',
});
export const Uuid = Type.String({ format: 'uuid' });
