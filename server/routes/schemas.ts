import { Type } from 'typebox';

/** Shapes shared by several routes; the contact reference lives in the wire contract. */
export {
  ContactRefSchema,
  CrmIdSchema,
  CrmRecordId,
  ObjectTypeSchema as ObjectType,
} from '../../contract/contact-ref.ts';

/**
 * A phone number as people type it; the route reads it in the org's default country and refuses
 * one nobody could text (422 INVALID_PHONE_NUMBER, see server/organisations/org-phone.ts).
 */
export const PhoneInput = Type.String({
  minLength: 1,
  maxLength: 32,
  description:
    "Phone number: E.164 (+12025550143), international (+44 20 7946 0958) or national in the org's default country (202-555-0143); stored in E.164",
});
export const Uuid = Type.String({ format: 'uuid' });

/** A list of open items (holds, alerts) with the closed ones on request, newest first, in keyset pages. */
export const OpenOrAllPageQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')])),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
