import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkE164,
  normalizePhone,
  parseE164,
  parseLoose,
  parsePhoneInput,
  parseTyped,
  phoneCacheSizes,
} from '../../server/phone.ts';

/**
 * #20: every send checks its numbers and every inbound webhook normalises two, so parsed numbers
 * are remembered. The remembered answer must be the parse, for any number, asked any number of times.
 */

const AREA_CODES = ['202', '208', '305', '415', '709', '808', '555', '011', '999'];
const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** E.164-shaped numbers of real and unassigned country codes, NANP ones with real area codes. */
const e164 = fc.oneof(
  fc.tuple(fc.constantFrom(...AREA_CODES), digits(7, 7)).map(([a, n]) => `+1${a}${n}`),
  fc.tuple(fc.integer({ min: 1, max: 9 }), digits(6, 14)).map(([c, n]) => `+${c}${n}`),
  fc.constantFrom('+447946095800', '+61255504321', '+9990000000', '12025550143', '+1 202 555 0143'),
);

/** What providers and CRMs send: bare digits, punctuation, words, blanks. */
const loose = fc.oneof(
  e164,
  e164.map((n) => n.slice(1)),
  fc.tuple(fc.constantFrom(...AREA_CODES), digits(3, 3), digits(4, 4)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
  fc.string({ maxLength: 16 }),
  fc.constantFrom('', '   ', 'unknown', '+'),
);

describe('phone number cache', () => {
  it('checks a number the same as parsing it afresh, however often it is asked', () => {
    fc.assert(
      fc.property(e164, (n) => {
        const fresh = /^\+[1-9]\d{6,14}$/.test(n) ? parseE164(n) : checkE164(n);
        expect(checkE164(n)).toEqual(fresh);
        expect(checkE164(n)).toEqual(fresh);
      }),
      { numRuns: 2000 },
    );
  });

  it('normalises a number the same as parsing it afresh, however often it is asked', () => {
    fc.assert(
      fc.property(loose, (n) => {
        const fresh = parseLoose(n);
        expect(normalizePhone(n)).toBe(fresh);
        expect(normalizePhone(n)).toBe(fresh);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a typed number the same as parsing it afresh, in every default country', () => {
    fc.assert(
      fc.property(
        loose,
        fc.constantFrom('US', 'CA', 'GB', 'AU', 'DE') as fc.Arbitrary<'US'>,
        (n, country) => {
          const fresh = parseTyped(n, country);
          expect(parsePhoneInput(n, country)).toEqual(fresh);
          expect(parsePhoneInput(n, country)).toEqual(fresh);
        },
      ),
      { numRuns: 2000 },
    );
    // The country is part of what is remembered: the same digits read in two countries differ.
    expect(parsePhoneInput('020 7946 0958', 'GB')).toMatchObject({ ok: true, e164: '+442079460958' });
    expect(parsePhoneInput('020 7946 0958', 'US').ok).toBe(false);
  });

  it('hands out copies, so a caller that changes its check changes no one else’s', () => {
    const first = checkE164('+12025550143');
    expect(first).toEqual({ ok: true, e164: '+12025550143', country: 'US' });
    if (first.ok) first.e164 = '+10000000000';
    expect(checkE164('+12025550143')).toEqual({ ok: true, e164: '+12025550143', country: 'US' });
  });

  it('hands out copies of typed numbers too', () => {
    const first = parsePhoneInput('202-555-0143', 'US');
    if (first.ok) first.e164 = '+10000000000';
    expect(parsePhoneInput('202-555-0143', 'US')).toEqual({ ok: true, e164: '+12025550143', country: 'US' });
  });

  it('keeps at most 10,000 numbers of each kind however many are asked about', () => {
    for (let i = 0; i < 10_500; i++) {
      const n = `+1202${String(1_000_000 + i)}`;
      checkE164(n);
      normalizePhone(n.slice(1));
      parsePhoneInput(n.slice(2), 'US');
    }
    expect(phoneCacheSizes().checks).toBeLessThanOrEqual(10_000);
    expect(phoneCacheSizes().normalized).toBeLessThanOrEqual(10_000);
    expect(phoneCacheSizes().typed).toBeLessThanOrEqual(10_000);
  });
});
