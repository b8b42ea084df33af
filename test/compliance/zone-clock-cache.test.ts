import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  instantOf,
  localDateTime,
  localTime,
  steadyOffset,
  zoneOffsetCacheSize,
} from '../../server/compliance/zone-clock.ts';
import { instants, referenceOffset, referenceParts, TRANSITIONS, ZONES } from './dst-instants.ts';

/**
 * #20: zone-clock remembers each zone's offset per UTC minute instead of formatting every instant.
 * These compare it with Intl formatting every instant afresh, across DST transitions.
 */

const zones = fc.constantFrom(...ZONES);

describe('zone clock cache', () => {
  it('shows the same wall clock, weekday and date-time as formatting each instant', () => {
    fc.assert(
      fc.property(instants, zones, (instant, zone) => {
        const p = referenceParts(instant, zone);
        // Twice: the first call may fill the cache, the second reads it.
        for (let i = 0; i < 2; i++) {
          expect(localTime(instant, zone)).toEqual({
            year: Number(p.year),
            month: Number(p.month),
            day: Number(p.day),
            minutes: Number(p.hour) * 60 + Number(p.minute),
            weekday: p.weekday?.toLowerCase(),
          });
          expect(localDateTime(zone, new Date(instant))).toBe(
            `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the same instant for a local date and minute as formatted offsets do', () => {
    fc.assert(
      fc.property(instants, zones, fc.integer({ min: 0, max: 1439 }), (instant, zone, minutes) => {
        const { year, month, day } = localTime(instant, zone);
        const wall = Date.UTC(year, month - 1, day, 0, minutes);
        const expected = wall - referenceOffset(wall - referenceOffset(wall, zone), zone);
        expect(instantOf(zone, year, month, day, minutes)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('remembers an offset only for a minute that keeps it from its first second to its last', () => {
    fc.assert(
      fc.property(instants, zones, (instant, zone) => {
        const first = Math.floor(instant / 60_000) * 60_000;
        const steady = steadyOffset(instant, zone);
        const [a, b] = [referenceOffset(first, zone), referenceOffset(first + 59_000, zone)];
        expect(steady).toBe(a === b ? a : null);
      }),
      { numRuns: 1000 },
    );
    // Lord Howe moves its clocks by 30 minutes at 02:00 local, 15:30 UTC: no minute straddles it.
    const shift = Date.parse('2026-10-03T15:30:00Z');
    expect(steadyOffset(shift - 1, 'Australia/Lord_Howe')).toBe(10.5 * 3_600_000);
    expect(steadyOffset(shift, 'Australia/Lord_Howe')).toBe(11 * 3_600_000);
  });

  it('draws its instants around every transition of 2026 and 2027, Lord Howe and St John’s included', () => {
    // Each DST zone changes twice a year; Kathmandu, Kolkata, Phoenix, Honolulu, Puerto Rico and
    // Monrovia never do now.
    expect(TRANSITIONS.length).toBe(12 * 2 * 2);
    expect(TRANSITIONS).toContain(Date.parse('2026-10-03T15:30:00Z'));
    expect(TRANSITIONS).toContain(Date.parse('2026-11-01T04:30:00Z'));
  });

  it('keeps at most 4,096 zone-minutes however many minutes are asked about', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 6000; i++) localTime(start + i * 60_000, 'America/Chicago');
    expect(zoneOffsetCacheSize()).toBeLessThanOrEqual(4096);
    expect(localTime(start, 'America/Chicago')).toMatchObject({
      year: 2025,
      month: 12,
      day: 31,
      minutes: 18 * 60,
    });
  });
});
