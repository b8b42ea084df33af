import { type CountryCode, isSupportedCountry, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { BoundedCache } from './lib/bounded-cache.ts';

/** Result of checking a phone number given by a user, a CRM or a provider. */
export type PhoneCheck = { ok: true; e164: string; country: string | null } | { ok: false; reason: string };

/**
 * Accepts numbers in E.164 that are possible for their country (correct length and prefix).
 * Stricter "assigned range" validity is not required: the sandbox and docs use the reserved
 * 555 ranges, and a real carrier rejects an unassigned number anyway (and we record why).
 */
export function checkE164(input: string): PhoneCheck {
  if (!/^\+[1-9]\d{6,14}$/.test(input)) {
    return { ok: false, reason: 'must be in E.164 form: "+" then country code and number, digits only' };
  }
  // A copy, so a caller cannot change a remembered answer.
  return { ...checks.getOrCompute(input, () => parseE164(input)) };
}

/**
 * Parsed numbers (#20): every send checks its sender and recipient, and libphonenumber's parse is
 * the costly part of a send's phone handling; the same few thousand numbers recur. Bounded.
 */
const checks = new BoundedCache<string, PhoneCheck>(10_000);

/** `checkE164` of a number in E.164 form, never remembered: what the cache's property test compares with. */
export function parseE164(input: string): PhoneCheck {
  try {
    const parsed = parsePhoneNumberWithError(input);
    if (!parsed.isPossible()) return { ok: false, reason: 'is not a possible number for its country' };
    return { ok: true, e164: parsed.number, country: parsed.country ?? null };
  } catch {
    return { ok: false, reason: 'has an unknown country code' };
  }
}

/** The country a number without its country code is read in when the org names none. */
export const DEFAULT_COUNTRY: CountryCode = 'US';

/** An ISO 3166 alpha-2 code the phone metadata knows ("US", "GB"), or null. */
export function phoneCountry(value: unknown): CountryCode | null {
  if (typeof value !== 'string' || !/^[A-Z]{2}$/.test(value)) return null;
  return isSupportedCountry(value) ? value : null;
}

/** What a person types into a phone field: digits and the usual punctuation, no letters. */
const TYPED_PHONE = /^\+?[\d\s().\-/]+$/;

const PARSE_REASONS: Record<string, string> = {
  INVALID_COUNTRY: 'starts with a country code that does not exist',
  TOO_SHORT: 'is too short for a phone number',
  TOO_LONG: 'is too long for a phone number',
};

/**
 * Reads a number as people write it: E.164 ("+12025550143"), international with spaces and
 * brackets ("+1 (202) 555-0143", "+44 20 7946 0958", "011 44 20 7946 0958") or national in the
 * org's default country ("202-555-0143", "(202) 555-0143"). Possible, not assigned, as checkE164.
 */
export function parsePhoneInput(input: string, defaultCountry: CountryCode): PhoneCheck {
  // A copy, so a caller cannot change a remembered answer.
  return {
    ...typedChecks.getOrCompute(`${defaultCountry} ${input}`, () => parseTyped(input, defaultCountry)),
  };
}

/**
 * Typed numbers (#20): every send reads its sender and recipient as typed, which is the costliest
 * part of a send's phone handling after `checkE164` is remembered. Bounded like the others.
 */
const typedChecks = new BoundedCache<string, PhoneCheck>(10_000);

/** `parsePhoneInput`, never remembered: what the cache's property test compares with. */
export function parseTyped(input: string, defaultCountry: CountryCode): PhoneCheck {
  const typed = input.trim();
  if (!TYPED_PHONE.test(typed) || !/\d/.test(typed)) return { ok: false, reason: 'is not a phone number' };
  try {
    const parsed = parsePhoneNumberWithError(typed, { defaultCountry, extract: false });
    if (!parsed.isPossible()) {
      return {
        ok: false,
        reason: typed.startsWith('+')
          ? 'is not a possible number for its country'
          : `is not a possible number in ${defaultCountry}`,
      };
    }
    return { ok: true, e164: parsed.number, country: parsed.country ?? null };
  } catch (error) {
    const code = error instanceof Error ? error.message : '';
    return { ok: false, reason: PARSE_REASONS[code] ?? 'is not a phone number' };
  }
}

/** How a rep should write a number, with a national example where the org's country has one. */
export function phoneHint(defaultCountry: CountryCode): string {
  const national = NATIONAL_EXAMPLES[defaultCountry];
  return national === undefined
    ? 'Enter a phone number with its country code, like +44 20 7946 0958.'
    : `Enter a phone number like ${national} or +44 20 7946 0958.`;
}

/** National examples from the ranges reserved for fiction and documentation. */
const NATIONAL_EXAMPLES: Partial<Record<CountryCode, string>> = {
  US: '202-555-0143',
  CA: '613-555-0143',
  GB: '020 7946 0958',
  AU: '(02) 5550 4321',
};

/** Normalises a number as providers send it ("14155550123") or as CRMs store it ("(415) 555-0123"). */
export function normalizePhone(input: string, defaultCountry: 'US' = 'US'): string | null {
  // '' stands for "not a number", since the cache cannot hold null.
  return (
    normalized.getOrCompute(`${defaultCountry} ${input}`, () => parseLoose(input, defaultCountry) ?? '') ||
    null
  );
}

/** Numbers as providers and CRMs send them, parsed (#20): each inbound webhook reads two. Bounded. */
const normalized = new BoundedCache<string, string>(10_000);

/** Entries in the number caches, for the test that they stay bounded. */
export const phoneCacheSizes = (): { checks: number; normalized: number; typed: number } => ({
  checks: checks.size,
  normalized: normalized.size,
  typed: typedChecks.size,
});

/** `normalizePhone`, never remembered: what the cache's property test compares with. */
export function parseLoose(input: string, defaultCountry: 'US' = 'US'): string | null {
  const trimmed = input.trim();
  if (trimmed === '') return null;
  const candidate = /^\d{11,15}$/.test(trimmed) ? `+${trimmed}` : trimmed;
  try {
    const parsed = parsePhoneNumberWithError(candidate, defaultCountry);
    return parsed.isPossible() ? parsed.number : null;
  } catch {
    return null;
  }
}

/** Masks all but the last four digits, for people who may not see PII. */
export function maskPhone(e164: string): string {
  return e164.slice(0, 2) + e164.slice(2, -4).replace(/\d/g, '•') + e164.slice(-4);
}

/**
 * Phone numbers inside free text: E.164 (also spaced or dashed, "+1 202-555-0143") and North
 * American forms ("(202) 555-0143", "202.555.0143", "12025550143"). Dates and times do not match:
 * they have too few digits or colons between them.
 */
const PHONE_IN_TEXT =
  /\+\d(?:[ .()-]{0,2}\d){6,14}|(?<!\d)(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?!\d)/g;

/** Free text (consent evidence, a review's reason) with every phone number in it masked like maskPhone. */
export function maskPhonesIn(text: string): string {
  return text.replace(PHONE_IN_TEXT, (match) => {
    const digits = match.replace(/\D/g, '').length;
    // As maskPhone: "+" and the first digit stay, and the last four digits.
    const keepFirst = match.startsWith('+') ? 1 : 0;
    let seen = 0;
    return match.replace(/\d/g, (digit) => {
      seen += 1;
      return seen <= keepFirst || seen > digits - 4 ? digit : '•';
    });
  });
}
