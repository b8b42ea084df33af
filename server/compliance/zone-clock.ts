/**
 * Wall-clock arithmetic in IANA zones through `Intl.DateTimeFormat`: the local date, weekday and
 * minute of an instant, and the instant of a local date and minute. Formatters are built once per
 * zone, since building one is the costly part.
 */

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

function localParts(
  instant: number,
  zone: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
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

/** What the wall clock in `zone` shows at `instant`. */
export function localTime(instant: number, zone: string): LocalTime {
  const p = localParts(instant, zone);
  const weekday = WEEKDAYS[new Date(Date.UTC(p.y, p.mo - 1, p.d)).getUTCDay()] as Weekday;
  return { year: p.y, month: p.mo, day: p.d, minutes: p.h * 60 + p.mi, weekday };
}

/** Offset of `zone` from UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, zone: string): number {
  const p = localParts(instant, zone);
  const asUtc = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  return asUtc - Math.floor(instant / 1000) * 1000;
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
