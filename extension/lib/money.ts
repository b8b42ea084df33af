/**
 * Amounts as a rep types them and as the relay stores them (integer minor units: cents, or yen for
 * a currency without decimals). Decimal strings are never turned into floats, so 0.1 + 0.2 never
 * becomes a wrong charge.
 */

/** How many decimals `currency` (ISO 4217) has: 2 for USD, 0 for JPY, 3 for KWD. */
export function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    // An unknown code: the relay refuses it anyway; 2 decimals keeps the field usable meanwhile.
    return 2;
  }
}

/** `minor` as a person reads it, e.g. `$1,250.50`. */
export function formatMinor(minor: number, currency: string, locale?: string): string {
  const digits = minorDigits(currency);
  const major = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() }).format(
      major,
    );
  } catch {
    return `${major.toFixed(digits)} ${currency.toUpperCase()}`;
  }
}

export type ParsedAmount = { minor: number; error: null } | { minor: null; error: string };

/**
 * A typed amount ("125", "1,250.5", "99.99") in `currency`'s minor units, or why it is not one.
 * Thousands separators (commas, spaces) are allowed; the decimal separator is a point.
 */
export function parseAmount(text: string, currency: string): ParsedAmount {
  const cleaned = text.trim().replace(/[\s,]/g, '');
  if (cleaned === '') return { minor: null, error: 'Enter an amount.' };
  const digits = minorDigits(currency);
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return { minor: null, error: 'Use digits and at most one decimal point, e.g. 125.50.' };
  const [, whole = '', fraction = ''] = match;
  if (fraction.length > digits)
    return {
      minor: null,
      error:
        digits === 0
          ? `${currency.toUpperCase()} has no decimals.`
          : `${currency.toUpperCase()} has at most ${digits} decimals.`,
    };
  const minor = Number(whole + fraction.padEnd(digits, '0'));
  if (!Number.isSafeInteger(minor)) return { minor: null, error: 'That amount is too large.' };
  if (minor <= 0) return { minor: null, error: 'The amount must be more than zero.' };
  return { minor, error: null };
}
