import { describe, expect, it } from 'vitest';
import { addDays, instantOf, localDateTime, localTime } from '../../server/compliance/zone-clock.ts';

describe('zone clock', () => {
  it('shows the wall clock of a zone as YYYY-MM-DDTHH:MM, midnight as 00', () => {
    expect(localDateTime('America/New_York', new Date('2026-12-04T05:00:00Z'))).toBe('2026-12-04T00:00');
    expect(localDateTime('Asia/Kolkata', new Date('2026-07-01T18:45:00Z'))).toBe('2026-07-02T00:15');
  });

  it('finds the instant of 8 am on the days US clocks spring forward and fall back', () => {
    expect(new Date(instantOf('America/Chicago', 2026, 3, 8, 8 * 60)).toISOString()).toBe(
      '2026-03-08T13:00:00.000Z',
    );
    expect(new Date(instantOf('America/Chicago', 2026, 11, 1, 8 * 60)).toISOString()).toBe(
      '2026-11-01T14:00:00.000Z',
    );
  });

  it('gives the local weekday and minute of an instant, and steps dates across a month end', () => {
    expect(localTime(Date.parse('2026-12-06T17:30:00Z'), 'America/Los_Angeles')).toEqual({
      year: 2026,
      month: 12,
      day: 6,
      minutes: 9 * 60 + 30,
      weekday: 'sun',
    });
    expect(addDays({ year: 2026, month: 12, day: 31 }, 1)).toEqual({
      year: 2027,
      month: 1,
      day: 1,
      weekday: 'fri',
    });
  });
});
