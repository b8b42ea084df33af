/** Finding Salesforce contacts by phone number and creating one. */
import type { CountryCode } from 'libphonenumber-js';
import { CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164 } from '../phone.ts';
import type { CrmContact, NewCrmContact } from '../types.ts';
import type { SalesforceApi } from './client.ts';
import { objectOf, PERSON_FIELDS, type SfObject, toContact } from './mapping.ts';
import { fieldList, ident, soql, soslFind } from './soql.ts';

/** The contacts whose stored phone numbers normalise to this one. */
export async function findSalesforceContactsByPhone(
  api: SalesforceApi,
  country: CountryCode,
  phoneE164: string,
): Promise<CrmContact[]> {
  const wanted = toE164(phoneE164, country);
  if (wanted === null) return [];
  // SOSL matches phone fields whatever their punctuation; the post-filter drops numbers that
  // merely share digits (another country, an extension).
  const rows = await api.search(
    soslFind(nationalDigits(wanted), 'PHONE', [
      { object: 'Contact', fields: PERSON_FIELDS.Contact, limit: 50 },
      { object: 'Lead', fields: PERSON_FIELDS.Lead, limit: 50 },
    ]),
  );
  const contacts: CrmContact[] = [];
  for (const row of rows) {
    const object = objectOf(row);
    const contact = object === null ? null : toContact(row, object, country);
    if (contact?.phones.includes(wanted)) contacts.push(contact);
  }
  return contacts;
}

/** Creates a contact with this phone number and optional name. */
export async function createSalesforceContact(
  api: SalesforceApi,
  country: CountryCode,
  input: NewCrmContact,
): Promise<CrmContact> {
  const phone = toE164(input.phoneE164, country);
  if (phone === null)
    throw new CrmRequestError('salesforce', 'invalid_request', `not a phone number: ${input.phoneE164}`);
  // A stranger becomes a lead, Salesforce's record for people not yet qualified.
  const id = await api.create('Lead', {
    LastName: (input.name ?? '').trim().slice(0, 80) || `SMS ${phone}`,
    Company: 'Unknown (inbound SMS)',
    MobilePhone: phone,
  });
  return (
    (await lookupSalesforcePerson(api, country, 'Lead', id)) ?? {
      ref: { crm: 'salesforce', objectType: 'lead', id },
      name: input.name ?? `SMS ${phone}`,
      phones: [phone],
      timeZone: null,
      ownerEmail: null,
    }
  );
}

/** The Contact or Lead with this id, or null when there is none. */
export async function lookupSalesforcePerson(
  api: SalesforceApi,
  country: CountryCode,
  object: SfObject,
  id: string,
): Promise<CrmContact | null> {
  const rows = await api.query(
    soql`SELECT ${fieldList(PERSON_FIELDS[object])} FROM ${ident(object)} WHERE Id = ${id} LIMIT 1`,
  );
  return rows[0] === undefined ? null : toContact(rows[0], object, country);
}
