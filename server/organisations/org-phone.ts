/**
 * Phone numbers as reps and integrations type them, read in the org's default country (the org
 * setting `defaultCountry`, US when unset) and stored in E.164.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { DEFAULT_COUNTRY, parsePhoneInput, phoneCountry, phoneHint } from '../phone.ts';

/** The country a number without its country code is read in, for this org. */
export async function orgDefaultCountry(db: Queryable, orgId: string): Promise<CountryCode> {
  const rows = await db.query<{ country: string | null }>(
    `SELECT settings->>'defaultCountry' AS country FROM orgs WHERE id = $1`,
    [orgId],
  );
  return phoneCountry(rows[0]?.country) ?? DEFAULT_COUNTRY;
}

/** The default country of the org a sender number belongs to (US for a number no org has). */
export async function senderNumberCountry(db: Queryable, e164: string): Promise<CountryCode> {
  const rows = await db.query<{ country: string | null }>(
    `SELECT o.settings->>'defaultCountry' AS country
       FROM sender_numbers s JOIN orgs o ON o.id = s.org_id WHERE s.e164 = $1`,
    [e164],
  );
  return phoneCountry(rows[0]?.country) ?? DEFAULT_COUNTRY;
}

/** The refusal of a number nobody could text, naming the field and saying how to write one. */
export function invalidPhone(field: string, input: string, reason: string, country: CountryCode): ApiError {
  return new ApiError(
    422,
    'INVALID_PHONE_NUMBER',
    `"${field}" (${input.trim().slice(0, 40)}) ${reason}. ${phoneHint(country)}`,
    { field, defaultCountry: country },
  );
}

/** One typed number in E.164, read in the given country; refused (422 INVALID_PHONE_NUMBER) if none. */
export function phoneIn(country: CountryCode, field: string, input: string): string {
  const check = parsePhoneInput(input, country);
  if (!check.ok) throw invalidPhone(field, input, check.reason, country);
  return check.e164;
}

/**
 * One typed number in E.164 for this org. A number written with its "+" country code needs no
 * default country, so it costs no read (the send path keeps its one query) unless it is refused.
 */
export async function orgPhone(db: Queryable, orgId: string, field: string, input: string): Promise<string> {
  if (input.trim().startsWith('+')) {
    const check = parsePhoneInput(input, DEFAULT_COUNTRY);
    if (check.ok) return check.e164;
  }
  return phoneIn(await orgDefaultCountry(db, orgId), field, input);
}
