/**
 * The holidays on which some states ban telephone solicitation (texts included), computed by rule
 * for any year: the actual date, plus the observed weekday of a fixed-date holiday that falls on a
 * weekend (Saturday → the Friday before, Sunday → the Monday after; New Year's Day on a Saturday is
 * observed on 31 December of the year before). Pure.
 *
 * Sources: dnc.com/holiday-alerts, the clickpoint state table and the state legal-holiday statutes
 * (compliance-research.md section 2). The AL, LA, MS, RI and UT lists beyond New Year's Day, MLK Day
 * and Christmas are the state legal holidays and need counsel review. The rules reproduce the
 * calendar reviewed for 2025–2027 exactly (test/compliance/fixtures/holidays-2025-2027.json).
 */
import { isoDate, type LocalDate } from './zone-clock.ts';

export const HOLIDAYS_VERSION = '2026.1';

type Rule =
  /** A fixed month and day, observed on the nearest weekday when it falls on a weekend. */
  | { fixed: [month: number, day: number] }
  /** The nth (1-based; -1 the last) given weekday (0 = Sunday) of a month. */
  | { nth: number; weekday: number; month: number }
  /** Days from Easter Sunday (Western). */
  | { easter: number };

const HOLIDAY_RULES: Record<string, Rule> = {
  "New Year's Day": { fixed: [1, 1] },
  'Martin Luther King Jr. Day': { nth: 3, weekday: 1, month: 1 },
  "Washington's Birthday": { nth: 3, weekday: 1, month: 2 },
  'Mardi Gras': { easter: -47 },
  'Good Friday': { easter: -2 },
  'Memorial Day': { nth: -1, weekday: 1, month: 5 },
  "Jefferson Davis' Birthday": { nth: 1, weekday: 1, month: 6 },
  'Independence Day': { fixed: [7, 4] },
  'Pioneer Day': { fixed: [7, 24] },
  'Victory Day': { nth: 2, weekday: 1, month: 8 },
  'Labor Day': { nth: 1, weekday: 1, month: 9 },
  'Columbus Day / Indigenous Peoples Day': { nth: 2, weekday: 1, month: 10 },
  'Veterans Day': { fixed: [11, 11] },
  'Thanksgiving Day': { nth: 4, weekday: 4, month: 11 },
  'Christmas Day': { fixed: [12, 25] },
};

/** Confederate Memorial Day: the fourth Monday of April in Alabama, the last in Mississippi. */
const CONFEDERATE_AL: Rule = { nth: 4, weekday: 1, month: 4 };
const CONFEDERATE_MS: Rule = { nth: -1, weekday: 1, month: 4 };

const FEDERAL_CORE = ["New Year's Day", 'Martin Luther King Jr. Day'];
const SUMMER_TO_YEAR_END = ['Memorial Day', 'Independence Day'];
const AUTUMN = ['Labor Day', 'Veterans Day', 'Thanksgiving Day', 'Christmas Day'];

/** Each state with a holiday ban: its holidays by name (rules of their own where they differ). */
const STATE_HOLIDAYS: Record<string, Array<string | [string, Rule]>> = {
  AL: [
    ...FEDERAL_CORE,
    "Washington's Birthday",
    ['Confederate Memorial Day', CONFEDERATE_AL],
    ...SUMMER_TO_YEAR_END,
    "Jefferson Davis' Birthday",
    'Columbus Day / Indigenous Peoples Day',
    ...AUTUMN,
  ],
  LA: [...FEDERAL_CORE, 'Mardi Gras', 'Good Friday', ...SUMMER_TO_YEAR_END, ...AUTUMN],
  MS: [
    ...FEDERAL_CORE,
    "Washington's Birthday",
    ['Confederate Memorial Day', CONFEDERATE_MS],
    ...SUMMER_TO_YEAR_END,
    ...AUTUMN,
  ],
  RI: [
    ...FEDERAL_CORE,
    ...SUMMER_TO_YEAR_END,
    'Victory Day',
    'Columbus Day / Indigenous Peoples Day',
    ...AUTUMN,
  ],
  UT: [
    ...FEDERAL_CORE,
    "Washington's Birthday",
    ...SUMMER_TO_YEAR_END,
    'Pioneer Day',
    'Columbus Day / Indigenous Peoples Day',
    ...AUTUMN,
  ],
  PA: ['Christmas Day'],
};

const DAY_MS = 86_400_000;

/** The UTC-midnight instant of a calendar date (a day count, free of any zone). */
const dayOf = (year: number, month: number, day: number): Date => new Date(Date.UTC(year, month - 1, day));

const plusDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);

/** Easter Sunday of `year` in the Gregorian calendar (the anonymous algorithm). */
export function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayOf(year, month, day);
}

function nthWeekday(year: number, month: number, nth: number, weekday: number): Date {
  if (nth > 0) {
    const first = dayOf(year, month, 1);
    return plusDays(first, ((weekday - first.getUTCDay() + 7) % 7) + (nth - 1) * 7);
  }
  const last = plusDays(dayOf(year, month + 1, 1), -1);
  return plusDays(last, -((last.getUTCDay() - weekday + 7) % 7));
}

/** The days a rule marks in `year`: the date itself and, for a fixed date on a weekend, its observed day. */
function datesOf(rule: Rule, year: number): Array<{ date: Date; observed: boolean }> {
  if ('easter' in rule) return [{ date: plusDays(easterSunday(year), rule.easter), observed: false }];
  if ('nth' in rule) return [{ date: nthWeekday(year, rule.month, rule.nth, rule.weekday), observed: false }];
  const date = dayOf(year, rule.fixed[0], rule.fixed[1]);
  const shift = date.getUTCDay() === 6 ? -1 : date.getUTCDay() === 0 ? 1 : 0;
  return shift === 0
    ? [{ date, observed: false }]
    : [
        { date, observed: false },
        { date: plusDays(date, shift), observed: true },
      ];
}

const calendars = new Map<string, Map<string, string>>();

/** One state's holidays that fall in `year` (by date, ISO), the observed days of next year's included. */
function calendarOf(region: string, year: number): Map<string, string> {
  const key = `${region}:${year}`;
  const cached = calendars.get(key);
  if (cached !== undefined) return cached;
  const days = new Map<string, string>();
  for (const entry of STATE_HOLIDAYS[region] ?? []) {
    const [name, rule] = typeof entry === 'string' ? [entry, HOLIDAY_RULES[entry] as Rule] : entry;
    for (const y of [year, year + 1])
      for (const { date, observed } of datesOf(rule, y))
        if (date.getUTCFullYear() === year)
          days.set(date.toISOString().slice(0, 10), observed ? `${name} (observed)` : name);
  }
  // Bounded: a handful of states times the years a relay meets.
  if (calendars.size > 500) calendars.clear();
  calendars.set(key, days);
  return days;
}

/** The states whose calendar this module keeps. */
export const HOLIDAY_REGIONS = Object.keys(STATE_HOLIDAYS);

/** The name of the holiday `region` keeps on `date`, or null. */
export function holidayName(region: string, date: LocalDate): string | null {
  if (!(region in STATE_HOLIDAYS)) return null;
  return calendarOf(region, date.year).get(isoDate(date)) ?? null;
}

/** Every holiday of `region` in `year`, by ISO date, in date order. */
export function holidaysIn(region: string, year: number): Record<string, string> {
  return Object.fromEntries([...calendarOf(region, year)].sort(([a], [b]) => a.localeCompare(b)));
}
