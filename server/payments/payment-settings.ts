import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/** An org's payment-link rules, kept under `orgs.settings.payments`. */
export interface PaymentSettings {
  /** ISO 4217 codes (lower case) a rep may ask for; the first is the panel's default. */
  currencies: string[];
  /** How long a link takes payment unless the rep says otherwise (days). */
  linkDays: number;
  /** The origin links are written with (a branded domain that reaches this relay); null: PUBLIC_URL. */
  linkBaseUrl: string | null;
  /** The largest amount one request may ask for, in minor units. */
  maxAmountMinor: number;
  /**
   * When a customer texts a card number while a request of that conversation is open, the
   * automatic card warning carries that request's link (off unless the org turns it on).
   */
  cardReplyLink: boolean;
  /** What one rep may ask for in total over any 24 hours, per currency, in minor units. */
  repDailyMaxMinor: number;
  /** Above this amount the rep proves an authenticator code again first (step-up); null: never. */
  stepUpAboveMinor: number | null;
  /** More links than this from one rep within an hour holds the rep's links. */
  holdLinksPerHour: number;
  /** More links than this to one number within 24 hours holds links to that number. */
  holdLinksPerNumberPerDay: number;
  /** A link to a number that never texted in needs approval above this amount; null: never. */
  holdUnknownNumberAboveMinor: number | null;
  /** A link this many times the rep's usual amount (the median of their last 20) needs approval. */
  holdUnusualAmountFactor: number;
  /** More failed card attempts than this on one link is card testing: the link is held. */
  holdFailedAttempts: number;
}

export const PAYMENT_DEFAULTS: PaymentSettings = {
  currencies: ['usd'],
  linkDays: 7,
  linkBaseUrl: null,
  maxAmountMinor: 10_000_00,
  cardReplyLink: false,
  repDailyMaxMinor: 25_000_00,
  stepUpAboveMinor: 2_500_00,
  holdLinksPerHour: 20,
  holdLinksPerNumberPerDay: 3,
  holdUnknownNumberAboveMinor: 1_000_00,
  holdUnusualAmountFactor: 10,
  holdFailedAttempts: 3,
};
/** A link lives at most this long, whatever the org or the rep asks. */
export const MAX_LINK_DAYS = 30;

export const PAYMENT_SETTING_NAMES = Object.keys(PAYMENT_DEFAULTS).map((name) => `payments.${name}`);

/** Whether `key` names a payment setting (`payments.…`), known or not. */
export const isPaymentSettingKey = (key: string): boolean => key.startsWith('payments.');

const invalid = (message: string) => new ApiError(400, 'INVALID_SETTING', message);

/** The org's payment settings, each falling back to its default. */
export async function readPaymentSettings(db: Queryable, orgId: string): Promise<PaymentSettings> {
  const [row] = await db.query<{ payments: Partial<PaymentSettings> | null }>(
    `SELECT settings->'payments' AS payments FROM orgs WHERE id = $1`,
    [orgId],
  );
  return { ...PAYMENT_DEFAULTS, ...(row?.payments ?? {}) };
}

function wholeNumber(name: string, raw: string, min: number, max: number, what: string): number {
  const value = /^\d{1,13}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!(value >= min && value <= max)) throw invalid(`payments.${name} must be ${what}; got "${raw}".`);
  return value;
}

/** The stored value of `payments.<name>` from the CLI's text, or a clear refusal. */
function paymentValue(name: keyof PaymentSettings, raw: string): unknown {
  switch (name) {
    case 'currencies': {
      const codes = raw.split(',').map((c) => c.trim().toLowerCase());
      if (codes.length === 0 || codes.length > 20 || codes.some((c) => !/^[a-z]{3}$/.test(c)))
        throw invalid(
          `payments.currencies must be ISO 4217 codes separated by commas (usd,cad); got "${raw}".`,
        );
      return [...new Set(codes)];
    }
    case 'linkDays': {
      const days = /^\d{1,2}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(days >= 1 && days <= MAX_LINK_DAYS))
        throw invalid(`payments.linkDays must be a whole number from 1 to ${MAX_LINK_DAYS}; got "${raw}".`);
      return days;
    }
    case 'maxAmountMinor':
    case 'repDailyMaxMinor':
      return wholeNumber(name, raw, 1, 1e12, 'a whole number of cents');
    case 'stepUpAboveMinor':
    case 'holdUnknownNumberAboveMinor':
      return raw.trim().toLowerCase() === 'off'
        ? null
        : wholeNumber(name, raw, 0, 1e12, 'a whole number of cents, or off');
    case 'holdLinksPerHour':
    case 'holdLinksPerNumberPerDay':
    case 'holdFailedAttempts':
      return wholeNumber(name, raw, 1, 10_000, 'a whole number from 1 to 10000');
    case 'holdUnusualAmountFactor':
      return wholeNumber(name, raw, 2, 1000, 'a whole number from 2 to 1000');
    case 'cardReplyLink': {
      const on = { on: true, true: true, off: false, false: false }[raw.trim().toLowerCase()];
      if (on === undefined) throw invalid(`payments.cardReplyLink must be on or off; got "${raw}".`);
      return on;
    }
    case 'linkBaseUrl': {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw invalid(
          `payments.linkBaseUrl must be an https URL such as https://pay.example.com; got "${raw}".`,
        );
      }
      if (url.protocol !== 'https:' || url.pathname !== '/' || url.search !== '' || url.hash !== '')
        throw invalid(
          `payments.linkBaseUrl must be an https origin with no path (https://pay.example.com); got "${raw}".`,
        );
      return url.origin;
    }
  }
}

/** Sets (or with `raw` null, removes, back to its default) one payment setting of the org. */
export async function setPaymentSetting(
  db: Queryable,
  orgId: string,
  key: string,
  raw: string | null,
): Promise<void> {
  const name = key.slice('payments.'.length);
  if (!Object.hasOwn(PAYMENT_DEFAULTS, name))
    throw new ApiError(
      400,
      'UNKNOWN_SETTING',
      `"${key}" is not a setting; payment settings: ${PAYMENT_SETTING_NAMES.join(', ')}.`,
    );
  if (raw === null) {
    await db.query(`UPDATE orgs SET settings = settings #- ARRAY['payments', $2::text] WHERE id = $1`, [
      orgId,
      name,
    ]);
    return;
  }
  const value = paymentValue(name as keyof PaymentSettings, raw);
  await db.query(
    `UPDATE orgs SET settings = jsonb_set(settings, '{payments}', coalesce(settings->'payments', '{}') || jsonb_build_object($2::text, $3::jsonb)) WHERE id = $1`,
    [orgId, name, JSON.stringify(value)],
  );
}
