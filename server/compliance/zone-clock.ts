/**
 * Wall-clock arithmetic in IANA zones through `Intl.DateTimeFormat`: the local date, weekday and
 * minute of an instant, and the instant of a local date and minute. Formatters are built once per
 * zone, since building one is the costly part, and each zone's offset is remembered per minute,
 * since formatting is the next most costly.
 */
import { BoundedCache } from '../lib/bounded-cache.ts';

/** A day of the week, as the quiet-hours rules name it. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A calendar date, without a zone. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** A date with its weekday. */
export interface LocalDay extends LocalDate {
  weekday: Weekday;
}

/** The wall clock of a zone at an instant: its date, weekday and minute of the day. */
export interface LocalTime extends LocalDay {
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

type Parts = { y: number; mo: number; d: number; h: number; mi: number; s: number };

/** The wall clock of `zone` at `instant` as Intl formats it: the costly, uncached answer. */
function formattedParts(instant: number, zone: string): Parts {
  const parts = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0 };
  for (const p of formatter(zone).formatToParts(instant)) {
    if (p.type === 'year') parts.y = Number(p.value);
    else if (p.type === 'month') parts.mo = Number(p.value);
    else if (p.type === 'day') parts.d = Number(p.value);
    else if (p.type === 'hour') parts.h = Number(p.value);
    else if (p.type === 'minute') parts.mi = Number(p.value);
    else if (p.type === 'second') parts.s = Number(p.value);
  }
  return parts;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** The whole second that Intl formats for `instant` (it drops the milliseconds). */
const wholeSecond = (instant: number): number => Math.floor(instant / 1000) * 1000;
const offsetOf = (p: Parts, instant: number): number =>
  Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - wholeSecond(instant);

/**
 * Each zone's offset from UTC through one UTC minute, keyed by zone and minute (#20): formatting is
 * most of a send's quiet-hours cost, and every send in the same minute to the same zone would
 * format the same wall clock. Keyed by minute, not hour, because some zones we resolve change at
 * a UTC half hour (America/St_Johns, Australia/Lord_Howe) or quarter hour. `null`: the offset is
 * not the same at both ends of the minute (a transition inside it, or a date Date.UTC cannot
 * invert), so that minute is always formatted. Bounded: old minutes fall out first.
 */
const minuteOffsets = new BoundedCache<string, number | null>(4096);

/**
 * The offset of `zone` from UTC throughout the UTC minute that holds `instant`, in milliseconds,
 * or null when it is not one offset all minute. Keyed by the instant given: it never reads a clock.
 */
export function steadyOffset(instant: number, zone: string): number | null {
  const minute = Math.floor(instant / MINUTE);
  return minuteOffsets.getOrCompute(`${minute} ${zone}`, () => {
    const first = minute * MINUTE;
    const last = first + MINUTE - 1000;
    const offset = offsetOf(formattedParts(first, zone), first);
    // Transitions fall on whole seconds, and no zone changes twice within a minute.
    if (offset !== offsetOf(formattedParts(last, zone), last) || Math.abs(offset) >= DAY) return null;
    return offset;
  });
}

/** Entries in the zone-offset cache, for the test that it stays bounded. */
export const zoneOffsetCacheSize = (): number => minuteOffsets.size;

function localParts(instant: number, zone: string): Parts {
  const offset = steadyOffset(instant, zone);
  if (offset === null) return formattedParts(instant, zone);
  // The wall clock is UTC shifted by the offset: the same fields Intl would format.
  const d = new Date(wholeSecond(instant) + offset);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
  };
}

/** What the wall clock in `zone` shows at `instant`. */
export function localTime(instant: number, zone: string): LocalTime {
  const p = localParts(instant, zone);
  const weekday = WEEKDAYS[new Date(Date.UTC(p.y, p.mo - 1, p.d)).getUTCDay()] as Weekday;
  return { year: p.y, month: p.mo, day: p.d, minutes: p.h * 60 + p.mi, weekday };
}

/** Offset of `zone` from UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, zone: string): number {
  return offsetOf(localParts(instant, zone), instant);
}

/** The instant at which the wall clock in `zone` shows the given local date and minute of day. */
export function instantOf(zone: string, year: number, month: number, day: number, minutes: number): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const first = wall - offsetAt(wall, zone);
  // A second pass settles a guess made on the other side of a DST transition.
  return wall - offsetAt(first, zone);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A date as YYYY-MM-DD. */
export const isoDate = (t: LocalDate): string => `${t.year}-${pad2(t.month)}-${pad2(t.day)}`;

/** The date `n` days after `t`, with its weekday. */
export function addDays(t: LocalDate, n: number): LocalDay {
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day + n));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: WEEKDAYS[d.getUTCDay()] as Weekday,
  };
}

/** The wall clock in `zone` at `at` as YYYY-MM-DDTHH:MM, for showing a rep the recipient's time. */
export function localDateTime(zone: string, at: Date): string {
  const p = localParts(at.getTime(), zone);
  return `${isoDate({ year: p.y, month: p.mo, day: p.d })}T${pad2(p.h)}:${pad2(p.mi)}`;
}
