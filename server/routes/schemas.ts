import { Type } from 'typebox';
import { CRM_IDS } from '../../crm-plugins/types.ts';

/** Shapes shared by several routes. */
export const E164 = Type.String({
  pattern: '^\\+[1-9][0-9]{6,14}$',
  maxLength: 16,
  description: 'E.164 phone number',
});
export const Uuid = Type.String({ format: 'uuid' });
export const CrmIdSchema = Type.Union(CRM_IDS.map((id) => Type.Literal(id)));
export const ObjectType = Type.Union([Type.Literal('contact'), Type.Literal('lead')]);
export const CrmRecordId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });

export const ContactRefSchema = Type.Object(
  { crm: CrmIdSchema, objectType: ObjectType, id: CrmRecordId },
  { additionalProperties: false },
);
