import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

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
  try {
    const parsed = parsePhoneNumberWithError(input);
    if (!parsed.isPossible()) return { ok: false, reason: 'is not a possible number for its country' };
    return { ok: true, e164: parsed.number, country: parsed.country ?? null };
  } catch {
    return { ok: false, reason: 'has an unknown country code' };
  }
}

/** Normalises a number as providers send it ("14155550123") or as CRMs store it ("(415) 555-0123"). */
export function normalizePhone(input: string, defaultCountry: 'US' = 'US'): string | null {
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
