import { describe, expect, it } from 'vitest';
import areaCodes from '../../server/compliance/data/nanp-area-codes.json' with { type: 'json' };
import rules from '../../server/compliance/data/quiet-hours-rules.json' with { type: 'json' };
import {
  easterSunday,
  HOLIDAY_REGIONS,
  HOLIDAYS_VERSION,
  holidayName,
  holidaysIn,
} from '../../server/compliance/holiday-calendar.ts';
import { evaluateFrequencyCap, evaluateQuietHours } from '../../server/compliance/quiet-hours.ts';
import { isValidTimeZone, resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';
import reviewedHolidays from './fixtures/holidays-2025-2027.json' with { type: 'json' };

const at = (iso: string) => new Date(iso);
const check = (
  phoneE164: string,
  iso: string,
  extra: { crmAddressState?: string; crmTimeZone?: string } = {},
) => evaluateQuietHours({ ...resolveRecipientZones({ phoneE164, ...extra }), now: at(iso) });

describe('quiet hours', () => {
  it('waits for 8 am Pacific and stops at 9 pm Mountain for a 208 number', () => {
    // 07:30 in Los Angeles is 08:30 in Boise: the Pacific half of Idaho still sleeps.
    const early = check('+12085550100', '2026-03-10T14:30:00Z');
    expect(early).toMatchObject({
      allowed: false,
      code: 'QUIET_HOURS',
      rule: 'US-federal@America/Los_Angeles',
    });
    expect(early.nextAllowedAt).toEqual(at('2026-03-10T15:00:00Z'));
    expect(check('+12085550100', '2026-03-11T02:30:00Z').allowed).toBe(true); // 20:30 Boise
    const late = check('+12085550100', '2026-03-11T03:15:00Z'); // 21:15 Boise, 20:15 LA
    expect(late).toMatchObject({ allowed: false, rule: 'US-federal@America/Boise' });
    expect(late.nextAllowedAt).toEqual(at('2026-03-11T15:00:00Z'));
  });

  it('holds Texas on Sunday until noon but allows 10 am on Saturday', () => {
    const sunday = check('+12145550100', '2026-06-07T15:00:00Z'); // Sun 10:00 CDT
    expect(sunday).toMatchObject({ allowed: false, rule: 'TX@America/Chicago' });
    expect(sunday.nextAllowedAt).toEqual(at('2026-06-07T17:00:00Z'));
    expect(check('+12145550100', '2026-06-06T15:00:00Z').allowed).toBe(true);
    expect(check('+12145550100', '2026-06-09T13:30:00Z').allowed).toBe(false); // Tue 08:30, TX starts at 9
  });

  it('bans Alabama on a state holiday and on Sundays, and names the holiday', () => {
    const christmas = check('+12055550100', '2026-12-25T16:00:00Z');
    expect(christmas).toMatchObject({ allowed: false, rule: 'AL@America/Chicago' });
    expect(christmas.reason).toContain('Christmas Day');
    expect(christmas.nextAllowedAt).toEqual(at('2026-12-26T14:00:00Z')); // Saturday 08:00 CST
    const sunday = check('+12055550100', '2026-12-27T16:00:00Z');
    expect(sunday.reason).toContain('Sundays');
    expect(sunday.nextAllowedAt).toEqual(at('2026-12-28T14:00:00Z'));
  });

  it('applies the observed weekday of a fixed-date holiday (Mississippi, 3 July 2026)', () => {
    expect(check('+16015550100', '2026-07-03T16:00:00Z').allowed).toBe(false);
    expect(check('+16015550100', '2026-07-02T16:00:00Z').allowed).toBe(true);
  });

  it('stops Florida, Oklahoma, Maryland and Washington at 8 pm and starts Connecticut at 9 am', () => {
    expect(check('+13055550100', '2026-06-10T00:30:00Z').allowed).toBe(false); // 20:30 EDT
    expect(check('+14055550100', '2026-06-10T01:30:00Z').allowed).toBe(false); // 20:30 CDT
    expect(check('+14105550100', '2026-06-09T23:30:00Z').allowed).toBe(true); // 19:30 EDT
    expect(check('+12065550100', '2026-06-10T03:30:00Z').allowed).toBe(false); // 20:30 PDT
    expect(check('+12035550100', '2026-06-09T12:30:00Z').allowed).toBe(false); // 08:30 EDT
    expect(check('+12035550100', '2026-06-09T13:30:00Z').allowed).toBe(true);
  });

  it('applies the CRM address state on top of the area code (the strictest wins)', () => {
    // A New York number whose CRM address is in Florida: Florida's 8 pm applies.
    expect(check('+12125550100', '2026-06-10T00:30:00Z').allowed).toBe(true);
    expect(check('+12125550100', '2026-06-10T00:30:00Z', { crmAddressState: 'FL' }).allowed).toBe(false);
  });

  it('finds 8 am on the day clocks spring forward and fall back', () => {
    const spring = check('+12125550100', '2026-03-08T06:00:00Z'); // 01:00 EST
    expect(spring.nextAllowedAt).toEqual(at('2026-03-08T12:00:00Z')); // 08:00 EDT
    const fall = check('+12125550100', '2026-11-01T05:30:00Z'); // 01:30 EDT
    expect(fall.nextAllowedAt).toEqual(at('2026-11-01T13:00:00Z')); // 08:00 EST
  });

  it('intersects every US zone when the zone is unknown', () => {
    const noon = check('+18005550100', '2026-06-10T16:00:00Z'); // 12:00 EDT, 06:00 in Honolulu
    expect(noon.allowed).toBe(false);
    expect(noon.nextAllowedAt).toEqual(at('2026-06-10T18:00:00Z')); // 08:00 HST
    expect(check('+18005550100', '2026-06-10T19:00:00Z').allowed).toBe(true);
    expect(check('+18005550100', '2026-06-11T01:30:00Z').allowed).toBe(false); // 21:30 EDT
  });

  it('refuses a number with no known zone and asks for one', () => {
    expect(check('+442079460958', '2026-06-10T12:00:00Z')).toMatchObject({
      allowed: false,
      code: 'UNKNOWN_TIME_ZONE',
    });
  });

  it('keeps Canadian weekends to 10 am–6 pm', () => {
    expect(check('+14165550100', '2026-06-13T23:00:00Z').allowed).toBe(false); // Sat 19:00 EDT
    expect(check('+14165550100', '2026-06-11T23:00:00Z').allowed).toBe(true); // Thu 19:00 EDT
  });

  it('bans Louisiana during a declared emergency', () => {
    const zones = resolveRecipientZones({ phoneE164: '+15045550100' });
    const now = at('2026-06-10T16:00:00Z');
    expect(evaluateQuietHours({ ...zones, now }).allowed).toBe(true);
    expect(evaluateQuietHours({ ...zones, now, context: { emergencies: ['LA'] } }).allowed).toBe(false);
  });
});

describe('frequency cap', () => {
  it('blocks the fourth message in 24 hours in Florida, Oklahoma and Maryland', () => {
    expect(evaluateFrequencyCap({ states: ['FL'], sentInLast24h: 2 })).toMatchObject({
      allowed: true,
      limit: 3,
    });
    expect(evaluateFrequencyCap({ states: ['NY', 'MD'], sentInLast24h: 3 })).toMatchObject({
      allowed: false,
      code: 'FREQUENCY_CAP',
      states: ['MD'],
    });
  });

  it('does not cap states without a cap', () => {
    expect(evaluateFrequencyCap({ states: ['TX'], sentInLast24h: 50 })).toEqual({
      allowed: true,
      limit: null,
      states: [],
    });
  });
});

describe('holiday rules beyond the reviewed years', () => {
  const on = (region: string, iso: string) => {
    const [year, month, day] = iso.split('-').map(Number) as [number, number, number];
    return holidayName(region, { year, month, day });
  };

  it('finds Easter, and the Louisiana holidays that follow it', () => {
    for (const [year, easter] of [
      [2024, '2024-03-31'],
      [2030, '2030-04-21'],
      [2038, '2038-04-25'],
      [2049, '2049-04-18'],
    ] as const)
      expect(easterSunday(year).toISOString().slice(0, 10)).toBe(easter);
    // The calendar before these rules had Louisiana's two Easter holidays three weeks early.
    expect(on('LA', '2026-04-03')).toBe('Good Friday');
    expect(on('LA', '2026-03-27')).toBeNull();
    const goodFriday = check('+15045550100', '2026-04-03T17:00:00Z');
    expect(goodFriday.allowed).toBe(false);
    expect(goodFriday.reason).toContain('Good Friday');
    expect(check('+15045550100', '2026-03-27T17:00:00Z').allowed).toBe(true);
    expect(on('LA', '2030-04-19')).toBe('Good Friday');
    expect(on('LA', '2030-03-05')).toBe('Mardi Gras');
  });

  it('moves a fixed holiday on a weekend to its observed weekday, across the new year too', () => {
    // 2028-07-04 is a Tuesday; 2032-07-04 a Sunday; 2033-01-01 a Saturday.
    expect(on('UT', '2028-07-04')).toBe('Independence Day');
    expect(on('UT', '2028-07-03')).toBeNull();
    expect(on('UT', '2032-07-05')).toBe('Independence Day (observed)');
    expect(on('AL', '2032-12-31')).toBe("New Year's Day (observed)");
    expect(on('AL', '2033-01-01')).toBe("New Year's Day");
    expect(on('PA', '2033-12-26')).toBe('Christmas Day (observed)');
  });

  it('counts weekdays of the month: the fourth Thursday, the last Monday, the second Monday', () => {
    expect(on('RI', '2030-11-28')).toBe('Thanksgiving Day');
    expect(on('RI', '2030-05-27')).toBe('Memorial Day');
    expect(on('RI', '2030-08-12')).toBe('Victory Day');
    // Confederate Memorial Day: fourth Monday of April in Alabama, the last in Mississippi (2029: 23rd and 30th).
    expect(on('AL', '2029-04-23')).toBe('Confederate Memorial Day');
    expect(on('MS', '2029-04-30')).toBe('Confederate Memorial Day');
    expect(on('MS', '2029-04-23')).toBeNull();
  });

  it('keeps no calendar for a state without a holiday ban', () => {
    expect(on('CA', '2030-12-25')).toBeNull();
  });
});

describe('quiet-hours data', () => {
  it('is versioned', () => {
    for (const data of [areaCodes, rules]) expect(data.version).toMatch(/^\d{4}\.\d+$/);
    expect(HOLIDAYS_VERSION).toMatch(/^\d{4}\.\d+$/);
  });

  it('maps every area code to valid IANA zones', () => {
    const entries = Object.entries(areaCodes.areaCodes);
    expect(entries.length).toBeGreaterThan(400);
    for (const [code, entry] of entries) {
      expect(code).toMatch(/^[2-9]\d\d$/);
      expect(entry.zones.length).toBeGreaterThan(0);
      for (const zone of entry.zones) expect(isValidTimeZone(zone), `${code} ${zone}`).toBe(true);
    }
  });

  it('has a holiday calendar in any year for every state with a holiday ban', () => {
    const withBan = rules.rules.filter((r) => 'holidays' in r && r.holidays).map((r) => r.id);
    expect(withBan.length).toBeGreaterThan(0);
    for (const state of withBan) {
      expect(HOLIDAY_REGIONS).toContain(state);
      for (let year = 2025; year <= 2075; year++)
        expect(holidaysIn(state, year)[`${year}-12-25`], `${state} ${year}`).toBe('Christmas Day');
    }
  });

  it('computes exactly the calendar reviewed for 2025 to 2027', () => {
    const reviewed = reviewedHolidays.states as Record<string, Record<string, Record<string, string>>>;
    expect(Object.keys(reviewed).sort()).toEqual([...HOLIDAY_REGIONS].sort());
    for (const [state, years] of Object.entries(reviewed))
      for (const [year, days] of Object.entries(years))
        expect(holidaysIn(state, Number(year)), `${state} ${year}`).toEqual(
          Object.fromEntries(Object.entries(days).sort(([a], [b]) => a.localeCompare(b))),
        );
  });
});
