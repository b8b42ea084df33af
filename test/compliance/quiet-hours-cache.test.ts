import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluateQuietHours,
  judgeQuietHours,
  type QuietHoursInput,
  quietHoursCacheSize,
} from '../../server/compliance/quiet-hours.ts';
import { instants, ZONES } from './dst-instants.ts';

/**
 * #20: the send path's quiet-hours verdict is remembered per (zones, states, countries,
 * emergencies, the org's own hours, UTC minute). It must be the verdict worked out afresh at
 * every instant of the minute, across DST transitions, half-hour and quarter-hour zones, bans
 * and holidays.
 */

const STATES = ['FL', 'TX', 'AL', 'LA', 'CA', 'NY', 'OK', 'MD', 'WA', 'CT', 'ON', 'QC', 'BC'];

const inputs: fc.Arbitrary<Omit<QuietHoursInput, 'now'>> = fc.record({
  zones: fc.uniqueArray(fc.constantFrom(...ZONES, 'Mars/Olympus_Mons'), { maxLength: 3 }),
  states: fc.uniqueArray(fc.constantFrom(...STATES), { maxLength: 2 }),
  countries: fc.constantFrom([], ['US'], ['CA'], ['GB'], ['US', 'CA']),
  context: fc.constantFrom({}, { emergencies: ['LA'] }, { emergencies: [] }),
  // The org's own hours (#17 item 3) are part of the key: two orgs in one minute differ.
  org: fc.constantFrom(
    undefined,
    { window: ['09:00', '18:00'], days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
    { window: ['06:00', '23:00'], days: null },
    { window: null, days: ['sat', 'sun'] },
  ) as fc.Arbitrary<QuietHoursInput['org']>,
});

describe('quiet-hours verdict cache', () => {
  it('gives every instant of a minute the verdict worked out afresh at that instant', () => {
    fc.assert(
      fc.property(inputs, instants, fc.integer({ min: 0, max: 59_999 }), (input, instant, other) => {
        const now = new Date(instant);
        expect(evaluateQuietHours({ ...input, now })).toEqual(judgeQuietHours({ ...input, now }));
        // Another instant of the same UTC minute: answered from the cache when the first was kept.
        const later = new Date(Math.floor(instant / 60_000) * 60_000 + other);
        expect(evaluateQuietHours({ ...input, now: later })).toEqual(
          judgeQuietHours({ ...input, now: later }),
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('never answers one org with another’s verdict of the same minute', () => {
    // 19:00 in New York on a Wednesday: the law allows it, an org texting 09:00–18:00 does not.
    const base = { zones: ['America/New_York'], states: ['NY'], now: new Date('2026-06-10T23:00:30Z') };
    expect(evaluateQuietHours(base).allowed).toBe(true);
    const strict = { ...base, org: { window: ['09:00', '18:00'] as [string, string], days: null } };
    expect(evaluateQuietHours(strict)).toMatchObject({ allowed: false, by: 'org' });
    expect(evaluateQuietHours(base).allowed).toBe(true);
  });

  it('hands out copies, so a caller that changes its verdict changes no one else’s', () => {
    const input = { zones: ['America/Chicago'], states: ['TX'], now: new Date('2026-06-07T15:00:00Z') };
    const first = evaluateQuietHours(input);
    expect(first.nextAllowedAt).toEqual(new Date('2026-06-07T17:00:00Z'));
    first.nextAllowedAt?.setTime(0);
    first.reason = 'changed';
    expect(evaluateQuietHours(input)).toEqual(judgeQuietHours(input));
  });

  it('keeps at most 2,048 verdicts however many minutes are asked about', () => {
    const start = Date.parse('2026-01-05T00:00:00Z');
    for (let i = 0; i < 3000; i++) {
      evaluateQuietHours({ zones: ['America/New_York'], states: [], now: new Date(start + i * 60_000) });
    }
    expect(quietHoursCacheSize()).toBeLessThanOrEqual(2048);
  });
});
