import { describe, expect, it } from 'vitest';
import holidays from '../../server/compliance/data/holidays.json' with { type: 'json' };
import areaCodes from '../../server/compliance/data/nanp-area-codes.json' with { type: 'json' };
import rules from '../../server/compliance/data/quiet-hours-rules.json' with { type: 'json' };
import { evaluateFrequencyCap, evaluateQuietHours } from '../../server/compliance/quiet-hours.ts';
import { isValidTimeZone, resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';

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

describe('quiet-hours data', () => {
  it('is versioned', () => {
    for (const data of [areaCodes, holidays, rules]) expect(data.version).toMatch(/^\d{4}\.\d+$/);
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

  it('has a holiday calendar for 2025 to 2027 for every state with a holiday ban', () => {
    const withBan = rules.rules.filter((r) => 'holidays' in r && r.holidays).map((r) => r.id);
    for (const state of withBan) {
      const calendar = (holidays.states as Record<string, Record<string, Record<string, string>>>)[state];
      expect(Object.keys(calendar ?? {})).toEqual(['2025', '2026', '2027']);
    }
  });
});
