import { type Static, Type } from 'typebox';

/** The CRMs a contact reference may name (crm-plugins/types.ts CRM_IDS; a test keeps them equal). */
export const CrmIdSchema = Type.Union(
  [Type.Literal('hubspot'), Type.Literal('salesforce'), Type.Literal('sandbox')],
  {
    description: 'Which CRM holds the record',
  },
);
export type CrmId = Static<typeof CrmIdSchema>;

export const ObjectTypeSchema = Type.Union([Type.Literal('contact'), Type.Literal('lead')], {
  description: 'The CRM object; HubSpot and the sandbox only have contacts',
});
export type ObjectType = Static<typeof ObjectTypeSchema>;

export const CrmRecordId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: "The record's id in its CRM",
});

/** One CRM record, as the extension reads it from the host page and the relay stores it. */
export const ContactRefSchema = Type.Object(
  { crm: CrmIdSchema, objectType: ObjectTypeSchema, id: CrmRecordId },
  { additionalProperties: false, description: 'A CRM record: which CRM, which object, which id' },
);
export type ContactRef = Static<typeof ContactRefSchema>;
