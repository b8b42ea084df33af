/**
 * Day separators and full timestamps for the thread. Every function takes the time zone and the
 * locale, so the answer depends on the reader's calendar (not the relay's, not the customer's) and
 * tests pin both.
 */

/** Where and how the thread is read: the reader's zone and locale, and the moment "today" means. */
export interface ReaderCalendar {
  timeZone: string;
  /** undefined: the browser's locale. */
  locale?: string | undefined;
  now: Date;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per locale and options: a thread formats every message, and building one is slow. */
function formatter(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify([locale ?? null, options]);
  let found = formatters.get(key);
  if (found === undefined) {
    found = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, found);
  }
  return found;
}

/** The reader's zone and locale as the browser knows them. */
export function readerCalendar(now: Date = new Date()): ReaderCalendar {
  return { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, now };
}

/** `YYYY-MM-DD` of an instant on the wall calendar of `timeZone`. */
export function localDay(at: Date, timeZone: string): string {
  // en-CA writes dates as YYYY-MM-DD.
  return formatter('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The calendar day before `day` (`YYYY-MM-DD`): calendar arithmetic, so a DST change cannot skip one. */
function dayBefore(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

/** "Today", "Yesterday", else the date in the reader's locale (the year only when not this year). */
export function dayLabel(at: Date, calendar: ReaderCalendar): string {
  const { timeZone, locale, now } = calendar;
  const day = localDay(at, timeZone);
  const today = localDay(now, timeZone);
  if (day === today) return 'Today';
  if (day === dayBefore(today)) return 'Yesterday';
  return formatter(locale, {
    timeZone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    ...(day.slice(0, 4) === today.slice(0, 4) ? {} : { year: 'numeric' }),
  }).format(at);
}

/**
 * For each instant of a thread in order (ISO strings), the heading to show before it: the day's
 * label where a new local day starts (always before the first), else null.
 */
export function dayBreaks(instants: readonly string[], calendar: ReaderCalendar): (string | null)[] {
  let previous: string | null = null;
  return instants.map((iso) => {
    const at = new Date(iso);
    if (Number.isNaN(at.getTime())) return null;
    const day = localDay(at, calendar.timeZone);
    if (day === previous) return null;
    previous = day;
    return dayLabel(at, calendar);
  });
}

/** The full date and time of an instant, for a tooltip and for screen readers. */
export function fullTimestamp(iso: string, calendar: Omit<ReaderCalendar, 'now'>): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return formatter(calendar.locale, {
    timeZone: calendar.timeZone,
    dateStyle: 'full',
    timeStyle: 'long',
  }).format(at);
}

/** The time of day of an instant ("2:05 PM"): the day separator above it says which day. */
export function timeOfDay(iso: string, calendar: Omit<ReaderCalendar, 'now'>): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return formatter(calendar.locale, {
    timeZone: calendar.timeZone,
    hour: 'numeric',
    minute: '2-digit',
  }).format(at);
}
