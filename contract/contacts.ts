import { type Static, Type } from 'typebox';
import { ConsentStatusSchema, PendingOptInSchema } from './consent.ts';
import { CrmIdSchema, ObjectTypeSchema } from './contact-ref.ts';
import { Nullable } from './nullable.ts';

const ZONE = Type.String({ description: 'IANA time zone' });
const LOCAL_TIME = Type.String({ description: '`YYYY-MM-DDTHH:MM` in `zone`' });
const ZONE_SOURCE = Type.String({
  description: 'Where the zone came from: crm_address, area_code, country_default…',
});

/**
 * The customer's time zone as quiet hours resolve it, and their wall-clock time when the relay
 * answered, as a preflight states it (`zoneSource`).
 */
export const RecipientLocalTimeSchema = Type.Object(
  { zone: ZONE, localTime: LOCAL_TIME, zoneSource: ZONE_SOURCE },
  { description: "The customer's zone and local time" },
);

/** The same facts as a contact lookup states them: the zone's origin is `source` there. */
export const ContactLocalTimeSchema = Type.Object(
  { zone: ZONE, source: ZONE_SOURCE, localTime: LOCAL_TIME },
  { description: "The customer's zone and local time" },
);

export const ConsentEvidenceSummarySchema = Type.Object(
  {
    kind: Type.String(),
    source: Nullable(Type.String()),
    evidence: Nullable(Type.String()),
    actor: Nullable(
      Type.String({
        description: "Who recorded it: the user's name or email, the API key's label, the customer",
      }),
    ),
    at: Type.String({ format: 'date-time' }),
  },
  { description: 'The latest consent ledger entry: who recorded what, how, when (with consent.view)' },
);

export const ContactLookupSchema = Type.Object(
  {
    contact: Type.Object({
      crm: CrmIdSchema,
      objectType: ObjectTypeSchema,
      id: Type.String(),
      name: Type.String(),
      phone: Nullable(Type.String({ description: "The record's first phone; masked without pii.view" })),
      timeZone: Nullable(Type.String()),
      localTime: Nullable(ContactLocalTimeSchema),
    }),
    consent: Type.Object({
      status: ConsentStatusSchema,
      updatedAt: Nullable(Type.String({ format: 'date-time' })),
      source: Nullable(Type.String()),
      evidence: Nullable(ConsentEvidenceSummarySchema),
      pendingOptIn: Nullable(PendingOptInSchema),
      review: Nullable(
        Type.Object(
          { reviewId: Type.String(), reason: Type.String(), since: Type.String({ format: 'date-time' }) },
          { description: 'Texting is paused until a reviewer reads an unclear reply' },
        ),
      ),
    }),
  },
  { description: 'A CRM contact, its phone and its consent standing' },
);
export type ContactLookupBody = Static<typeof ContactLookupSchema>;

export const RevealedContactPhoneSchema = Type.Object(
  {
    contact: Type.Object({ crm: CrmIdSchema, objectType: ObjectTypeSchema, id: Type.String() }),
    phone: Type.String({ description: "The record's first phone, unmasked" }),
  },
  { description: "One CRM contact's number unmasked; the reveal is recorded in the auth log" },
);
