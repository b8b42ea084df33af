/**
 * The state holidays on which some states ban solicitation, per year (versioned in
 * data/holidays.json). Pure; outside the years it covers, holiday bans cannot be applied.
 */
import holidayData from './data/holidays.json' with { type: 'json' };
import { isoDate, type LocalDate } from './zone-clock.ts';

export const HOLIDAYS_VERSION: string = holidayData.version;

const HOLIDAYS = holidayData.states as Record<string, Record<string, Record<string, string>>>;
const HOLIDAY_YEARS = new Set(holidayData.years);

/** The name of the holiday `region` keeps on `date`, or null. */
export function holidayName(region: string, date: LocalDate): string | null {
  return HOLIDAYS[region]?.[String(date.year)]?.[isoDate(date)] ?? null;
}

/** Whether the holiday calendar covers `year`; outside it, holiday bans cannot be applied. */
export function holidayCalendarCovers(year: number): boolean {
  return HOLIDAY_YEARS.has(year);
}
