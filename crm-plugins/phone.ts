import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Normalises a number as a CRM stores it — typed by people, so `(415) 555-0123`, `415.555.0123`,
 * `+1 415-555-0123 ext. 7` or `14155550123` — to E.164, or null if it is not a possible number.
 */
export function toE164(raw: string | null | undefined, defaultCountry: CountryCode): string | null {
  if (raw === null || raw === undefined) return null;
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  const parsed =
    parsePhoneNumberFromString(trimmed, defaultCountry) ??
    (/^\d{11,15}$/.test(trimmed) ? parsePhoneNumberFromString(`+${trimmed}`) : undefined);
  if (parsed === undefined || !parsed.isPossible()) return null;
  return parsed.number;
}

/** The ways a number is commonly typed into a CRM, for exact-match searches (post-filter after). */
export function typedVariants(e164: string): string[] {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) return [e164];
  const national = parsed.nationalNumber;
  const variants = new Set([
    e164,
    e164.slice(1),
    national,
    parsed.formatNational(),
    parsed.formatInternational(),
    `${parsed.countryCallingCode}${national}`,
  ]);
  if (parsed.countryCallingCode === '1' && national.length === 10) {
    const [a, b, c] = [national.slice(0, 3), national.slice(3, 6), national.slice(6)];
    for (const v of [
      `${a}-${b}-${c}`,
      `${a}.${b}.${c}`,
      `${a} ${b} ${c}`,
      `1-${a}-${b}-${c}`,
      `+1-${a}-${b}-${c}`,
    ]) {
      variants.add(v);
    }
  }
  return [...variants];
}

/** The national significant number (digits only), which SOSL and HubSpot's calculated phone fields match. */
export function nationalDigits(e164: string): string {
  return parsePhoneNumberFromString(e164)?.nationalNumber ?? e164.replace(/\D/g, '');
}
