/** Finding HubSpot contacts by phone number and creating one. */
import type { CountryCode } from 'libphonenumber-js';
import { CrmError, CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164, typedVariants } from '../phone.ts';
import type { CrmContact, NewCrmContact } from '../types.ts';
import type { HubSpotApi } from './client.ts';
import { CONTACT_PROPERTIES, ownerIdOf, toContact } from './mapping.ts';
import type { HsRecord } from './wire.ts';

/** The contacts whose stored phone numbers normalise to this one, each with its owner's email. */
export async function findHubSpotContactsByPhone(
  api: HubSpotApi,
  country: CountryCode,
  phoneE164: string,
  owners: HubSpotOwners,
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
  const matching = page.results.filter((r) => toContact(r, country).phones.includes(wanted));
  return Promise.all(matching.map((r) => owners.contact(r)));
}

/** How long an owner's email is trusted before it is asked again. */
const OWNER_TTL_MS = 10 * 60_000;
const OWNERS_KEPT = 1000;

/**
 * Contacts with their owner's email: a record names its owner by id (hubspot_owner_id), so the
 * email takes one owners call per owner, remembered for ten minutes. A token without the owners
 * scope (crm.objects.owners.read) gives contacts without owners, as a deleted owner does.
 */
export class HubSpotOwners {
  private readonly emails = new Map<string, { email: string | null; at: number }>();

  constructor(
    private readonly api: HubSpotApi,
    private readonly country: CountryCode,
  ) {}

  async contact(record: HsRecord): Promise<CrmContact> {
    const contact = toContact(record, this.country);
    const ownerId = ownerIdOf(record);
    return ownerId === null ? contact : { ...contact, ownerEmail: await this.emailOf(ownerId) };
  }

  private async emailOf(ownerId: string): Promise<string | null> {
    const known = this.emails.get(ownerId);
    if (known !== undefined && Date.now() - known.at < OWNER_TTL_MS) return known.email;
    let email: string | null;
    try {
      email = await this.api.ownerEmail(ownerId);
    } catch (error) {
      if (!(error instanceof CrmError && error.code === 'forbidden')) throw error;
      email = null;
    }
    if (this.emails.size >= OWNERS_KEPT) this.emails.clear();
    this.emails.set(ownerId, { email, at: Date.now() });
    return email;
  }
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
