/** Finding HubSpot contacts by phone number and creating one. */
import type { CountryCode } from 'libphonenumber-js';
import { CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164, typedVariants } from '../phone.ts';
import type { CrmContact, NewCrmContact } from '../types.ts';
import type { HubSpotApi } from './client.ts';
import { CONTACT_PROPERTIES, toContact } from './mapping.ts';

/** The contacts whose stored phone numbers normalise to this one. */
export async function findHubSpotContactsByPhone(
  api: HubSpotApi,
  country: CountryCode,
  phoneE164: string,
): Promise<CrmContact[]> {
  const wanted = toE164(phoneE164, country);
  if (wanted === null) return [];
  const variants = typedVariants(wanted);
  const national = nationalDigits(wanted);
  // Stored phone values are whatever people typed: match the usual spellings and HubSpot's
  // digits-only calculated fields, then keep only true matches after normalising.
  const page = await api.search('contacts', {
    filterGroups: [
      [{ propertyName: 'phone', operator: 'IN', values: variants }],
      [{ propertyName: 'mobilephone', operator: 'IN', values: variants }],
      [{ propertyName: 'hs_searchable_calculated_phone_number', operator: 'EQ', value: national }],
      [{ propertyName: 'hs_searchable_calculated_mobile_number', operator: 'EQ', value: national }],
    ],
    properties: CONTACT_PROPERTIES,
    limit: 100,
  });
  return page.results.map((r) => toContact(r, country)).filter((c) => c.phones.includes(wanted));
}

/** Creates a contact with this phone number and optional name. */
export async function createHubSpotContact(
  api: HubSpotApi,
  country: CountryCode,
  input: NewCrmContact,
): Promise<CrmContact> {
  const phone = toE164(input.phoneE164, country);
  if (phone === null)
    throw new CrmRequestError('hubspot', 'invalid_request', `not a phone number: ${input.phoneE164}`);
  const [first, ...rest] = (input.name ?? '')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const record = await api.create('contacts', {
    phone,
    mobilephone: phone,
    ...(first === undefined ? {} : { firstname: first }),
    ...(rest.length === 0 ? {} : { lastname: rest.join(' ') }),
  });
  return toContact({ ...record, properties: { ...record.properties, phone, mobilephone: phone } }, country);
}
