import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import areaCodes from '../../server/compliance/data/nanp-area-codes.json' with { type: 'json' };
import {
  recipientZonesCacheSize,
  resolveRecipientZones,
  resolveUncached,
} from '../../server/compliance/recipient-zones.ts';

/**
 * #20: where a recipient may be is remembered per area code and CRM fields. Two numbers of the
 * same area code must get the answer each would get afresh, whatever the CRM says.
 */

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
const areaCode = fc.oneof(fc.constantFrom(...Object.keys(areaCodes.areaCodes)), digits(3));

/** +1 numbers written as E.164 or with punctuation, and numbers of other countries. */
const phone = fc.oneof(
  fc.tuple(areaCode, digits(7)).map(([a, n]) => `+1${a}${n}`),
  fc.tuple(areaCode, digits(3), digits(4)).map(([a, b, c]) => `+1 (${a}) ${b}-${c}`),
  fc.tuple(areaCode, digits(3), digits(4)).map(([a, b, c]) => `+1${a}.${b}.${c}`),
  digits(10).map((n) => `+44${n}`),
  fc.constantFrom('+1202555014', '+120255501430', '2025550143', ''),
);

const crm = fc.record(
  {
    crmTimeZone: fc.constantFrom(null, undefined, '', 'America/Chicago', ' Europe/Berlin ', 'Not/AZone'),
    crmAddressState: fc.constantFrom(null, undefined, '', 'FL', ' tx ', 'ON', 'ZZ'),
  },
  { requiredKeys: [] },
);

describe('recipient zones cache', () => {
  it('resolves every number as afresh, after another of its area code was resolved', () => {
    fc.assert(
      fc.property(phone, phone, crm, (first, second, fields) => {
        expect(resolveRecipientZones({ phoneE164: first, ...fields })).toEqual(
          resolveUncached({ phoneE164: first, ...fields }),
        );
        expect(resolveRecipientZones({ phoneE164: second, ...fields })).toEqual(
          resolveUncached({ phoneE164: second, ...fields }),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('hands out copies, so a caller that changes its zones changes no one else’s', () => {
    const first = resolveRecipientZones({ phoneE164: '+12085550100' });
    first.zones.push('Europe/Paris');
    first.states.length = 0;
    expect(resolveRecipientZones({ phoneE164: '+12085550199' })).toEqual({
      zones: ['America/Boise', 'America/Los_Angeles'],
      states: ['ID'],
      countries: ['US'],
      source: 'area_code',
    });
  });

  it('keeps at most 4,096 answers however many CRM zones are asked about', () => {
    for (let i = 0; i < 5000; i++)
      resolveRecipientZones({ phoneE164: '+12025550143', crmTimeZone: `Zone/${i}` });
    expect(recipientZonesCacheSize()).toBeLessThanOrEqual(4096);
  });
});
