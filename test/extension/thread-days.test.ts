import { describe, expect, it } from 'vitest';
import { dayBreaks, dayLabel, fullTimestamp, localDay } from '../../extension/lib/thread-days.ts';

/**
 * Day separators in the thread, judged on the reader's calendar: every case names its zone and
 * locale, so the result is the same on a machine in any zone.
 */

/** Wednesday 4 March 2026, 15:00 UTC: 10:00 in New York, 00:00 on the 5th in Tokyo. */
const NOW = new Date('2026-03-04T15:00:00.000Z');
const NEW_YORK = { timeZone: 'America/New_York', locale: 'en-US', now: NOW };
const TOKYO = { timeZone: 'Asia/Tokyo', locale: 'en-US', now: NOW };

describe('day separators', () => {
  it('puts one before the first message and one wherever the local day changes', () => {
    const thread = [
      '2026-03-03T14:00:00.000Z', // 3 Mar, 09:00 New York
      '2026-03-03T22:00:00.000Z', // 3 Mar, 17:00
      '2026-03-04T04:59:00.000Z', // 3 Mar, 23:59
      '2026-03-04T05:01:00.000Z', // 4 Mar, 00:01
      '2026-03-04T14:00:00.000Z', // 4 Mar, 09:00
    ];
    expect(dayBreaks(thread, NEW_YORK)).toEqual(['Yesterday', null, null, 'Today', null]);
  });

  it('groups the same instants by the reader’s own zone, not UTC', () => {
    const thread = ['2026-03-03T14:00:00.000Z', '2026-03-03T16:00:00.000Z'];
    // New York: both on the 3rd. Tokyo: 23:00 on the 3rd, then 01:00 on the 4th.
    expect(dayBreaks(thread, NEW_YORK)).toEqual(['Yesterday', null]);
    expect(dayBreaks(thread, { ...TOKYO, now: new Date('2026-03-04T03:00:00.000Z') })).toEqual([
      'Yesterday',
      'Today',
    ]);
  });

  it('names older days by date in the reader’s locale, with the year only when it is not this year', () => {
    expect(dayLabel(new Date('2026-03-01T15:00:00.000Z'), NEW_YORK)).toBe('Sun, Mar 1');
    expect(dayLabel(new Date('2025-12-31T15:00:00.000Z'), NEW_YORK)).toBe('Wed, Dec 31, 2025');
    expect(dayLabel(new Date('2026-03-01T15:00:00.000Z'), { ...NEW_YORK, locale: 'de-DE' })).toBe(
      'So., 1. März',
    );
  });

  it('counts "Yesterday" in calendar days across a daylight-saving change', () => {
    // Clocks in New York went forward on Sunday 8 March 2026: that day had 23 hours.
    const monday = { ...NEW_YORK, now: new Date('2026-03-09T04:30:00.000Z') }; // 00:30 Monday
    expect(dayLabel(new Date('2026-03-08T05:30:00.000Z'), monday)).toBe('Yesterday'); // 00:30 Sunday
    expect(dayLabel(new Date('2026-03-08T04:30:00.000Z'), monday)).toBe('Sat, Mar 7'); // 23:30 Saturday
  });

  it('ignores an unreadable timestamp instead of starting a day with it', () => {
    expect(dayBreaks(['not a date', '2026-03-04T14:00:00.000Z'], NEW_YORK)).toEqual([null, 'Today']);
  });
});

describe('full timestamps', () => {
  it('gives the whole date and time in the reader’s zone and locale', () => {
    const full = fullTimestamp('2026-03-03T22:05:00.000Z', NEW_YORK);
    expect(full).toMatch(/^Tuesday, March 3, 2026 at 5:05:00\sPM EST$/);
    expect(localDay(new Date('2026-03-03T22:05:00.000Z'), 'Asia/Tokyo')).toBe('2026-03-04');
  });
});
