import { describe, expect, it } from 'vitest';
import { preferCrmTimeZone, resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';

describe('recipient zones', () => {
  it('lists every zone of an area code that spans two (208, Idaho)', () => {
    expect(resolveRecipientZones({ phoneE164: '+12085550100' })).toEqual({
      zones: ['America/Boise', 'America/Los_Angeles'],
      states: ['ID'],
      countries: ['US'],
      source: 'area_code',
    });
  });

  it('prefers the CRM time zone, then the CRM address, over the area code', () => {
    expect(
      resolveRecipientZones({ phoneE164: '+12085550100', crmTimeZone: 'America/New_York' }),
    ).toMatchObject({
      zones: ['America/New_York'],
      source: 'crm_time_zone',
    });
    const byAddress = resolveRecipientZones({ phoneE164: '+12125550100', crmAddressState: 'fl' });
    expect(byAddress.source).toBe('crm_address');
    expect(byAddress.zones.sort()).toEqual(['America/Chicago', 'America/New_York']);
    // The area-code state still applies (FL, OK, CT, WA presume residence from it).
    expect(byAddress.states).toEqual(['FL', 'NY']);
  });

  it('ignores a CRM time zone that is not an IANA zone', () => {
    expect(resolveRecipientZones({ phoneE164: '+12145550100', crmTimeZone: 'Central' }).source).toBe(
      'area_code',
    );
  });

  it('falls back to every US zone for a toll-free number, and to nothing outside NANP', () => {
    const tollFree = resolveRecipientZones({ phoneE164: '+18005550100' });
    expect(tollFree.source).toBe('country_default');
    expect(tollFree.zones).toEqual(
      expect.arrayContaining(['Pacific/Honolulu', 'America/New_York', 'America/Anchorage']),
    );
    expect(resolveRecipientZones({ phoneE164: '+442079460958' })).toMatchObject({
      zones: [],
      source: 'unknown',
    });
  });

  it.each([
    ['+12025550143', 'America/Chicago'],
    ['+18005550100', 'America/Denver'],
    ['+442079460958', 'Europe/London'],
    ['+12025550143', 'Not/A_Zone'],
    ['+12025550143', null],
  ])('resolves %s with CRM zone %s the same in one step or applied afterwards', (phoneE164, crmTimeZone) => {
    expect(preferCrmTimeZone(resolveRecipientZones({ phoneE164 }), crmTimeZone)).toEqual(
      resolveRecipientZones({ phoneE164, crmTimeZone }),
    );
  });
});
