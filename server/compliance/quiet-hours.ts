/**
 * Quiet hours and the per-subject frequency cap (issue #4). Pure: zone arithmetic goes through
 * `Intl.DateTimeFormat`, the rules and calendars are versioned JSON under ./data, so
 * `decideOutbound` gives the same answer for the same inputs at preflight, send and dequeue.
 */

import holidayData from './data/holidays.json' with { type: 'json' };
import areaCodeData from './data/nanp-area-codes.json' with { type: 'json' };
import ruleData from './data/quiet-hours-rules.json' with { type: 'json' };

type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Mondays',
  tue: 'Tuesdays',
  wed: 'Wednesdays',
  thu: 'Thursdays',
  fri: 'Fridays',
  sat: 'Saturdays',
  sun: 'Sundays',
};

/** One jurisdiction's sending window, as stored in data/quiet-hours-rules.json. */
export interface QuietHoursRule {
  id: string;
  scope: { country: string; region?: string };
  /** [start, end) in local HH:MM. */
  default: [string, string];
  /** Per-weekday overrides; `null` bans the whole day. */
  days?: Partial<Record<Weekday, [string, string] | null>>;
  holidays?: boolean;
  emergencyBan?: boolean;
  frequencyCapPer24h?: number;
  source: string;
}

interface AreaCodeEntry {
  country: string;
  regions: string[];
  zones: string[];
}

export const QUIET_HOURS_RULES_VERSION: string = ruleData.version;
export const AREA_CODES_VERSION: string = areaCodeData.version;
export const HOLIDAYS_VERSION: string = holidayData.version;

const RULES = ruleData.rules as QuietHoursRule[];
const AREA_CODES = areaCodeData.areaCodes as Record<string, AreaCodeEntry>;
const HOLIDAYS = holidayData.states as Record<string, Record<string, Record<string, string>>>;
const HOLIDAY_YEARS = new Set(holidayData.years);

const CANADIAN_REGIONS = new Set([
  'AB',
  'BC',
  'MB',
  'NB',
  'NL',
  'NS',
  'NT',
  'NU',
  'ON',
  'PE',
  'QC',
  'SK',
  'YT',
]);

/** Zones of each region and country, derived once from the area-code table. */
const zonesByRegion = new Map<string, Set<string>>();
const zonesByCountry = new Map<string, Set<string>>();
// Territories have their own area codes but are not where an unknown US number is presumed to be:
// the country default spans the states' zones (HST…EST), as the research's algorithm says.
const TERRITORIES = new Set(['PR', 'VI', 'GU', 'MP', 'AS']);
for (const entry of Object.values(AREA_CODES)) {
  for (const region of entry.regions) {
    const set = zonesByRegion.get(region) ?? new Set<string>();
    for (const zone of entry.zones) set.add(zone);
    zonesByRegion.set(region, set);
  }
  if (entry.regions.some((r) => TERRITORIES.has(r))) continue;
  const set = zonesByCountry.get(entry.country) ?? new Set<string>();
  for (const zone of entry.zones) set.add(zone);
  zonesByCountry.set(entry.country, set);
}

export type ZoneSource = 'crm_time_zone' | 'crm_address' | 'area_code' | 'country_default' | 'unknown';

export interface RecipientZones {
  /** Every IANA zone the recipient may be in; all of them must allow a send. */
  zones: string[];
  /** Every state/province whose rules apply (CRM address and area-code presumption). */
  states: string[];
  countries: string[];
  source: ZoneSource;
}

// Building an Intl formatter is the costly part of zone math; every send asks about the same
// few zones, so answers are remembered (bounded: unknown strings are not cached once full).
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  const known = zoneValidity.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (zoneValidity.size < 1000) zoneValidity.set(zone, valid);
  return valid;
}

/** The area-code entry of a +1 number, or null for other countries and non-geographic codes. */
export function lookupAreaCode(phoneE164: string): (AreaCodeEntry & { areaCode: string }) | null {
  const match = /^\+1(\d{3})\d{7}$/.exec(phoneE164.replace(/[\s().-]/g, ''));
  if (match === null) return null;
  const areaCode = match[1] as string;
  const entry = AREA_CODES[areaCode];
  return entry === undefined ? null : { ...entry, areaCode };
}

function countryOfRegion(region: string): string {
  return CANADIAN_REGIONS.has(region) ? 'CA' : 'US';
}

/**
 * Where the recipient may be, most specific source first: the CRM's time zone, then the CRM
 * address state, then the area code, then every zone of the country (strictest). States are the
 * union of the CRM state and the area-code state: FL, OK, CT and WA presume residence from the
 * area code even when the address says otherwise.
 */
export function resolveRecipientZones(input: {
  crmTimeZone?: string | null;
  crmAddressState?: string | null;
  phoneE164: string;
}): RecipientZones {
  const areaCode = lookupAreaCode(input.phoneE164);
  const crmState = input.crmAddressState?.trim().toUpperCase() || null;
  const knownCrmState = crmState !== null && zonesByRegion.has(crmState) ? crmState : null;
  const states = [
    ...new Set([...(knownCrmState === null ? [] : [knownCrmState]), ...(areaCode?.regions ?? [])]),
  ];
  const countries = [
    ...new Set([
      ...(knownCrmState === null ? [] : [countryOfRegion(knownCrmState)]),
      ...(areaCode === null ? [] : [areaCode.country]),
    ]),
  ];
  let regional: RecipientZones;
  if (knownCrmState !== null) {
    regional = {
      zones: [...(zonesByRegion.get(knownCrmState) ?? [])],
      states,
      countries,
      source: 'crm_address',
    };
  } else if (areaCode !== null) {
    regional = { zones: [...areaCode.zones], states, countries, source: 'area_code' };
  } else if (/^\+1\d{10}$/.test(input.phoneE164)) {
    regional = {
      zones: [...(zonesByCountry.get('US') ?? [])],
      states: [],
      countries: ['US'],
      source: 'country_default',
    };
  } else {
    regional = { zones: [], states: [], countries: [], source: 'unknown' };
  }
  return preferCrmTimeZone(regional, input.crmTimeZone ?? null);
}

/**
 * Zones resolved without the CRM's time zone, with it applied: a valid CRM zone replaces the
 * zones (states and countries stay, since the rules of a presumed residence still apply). The
 * send path resolves the number before it reads the CRM's zone, and applies the zone after.
 */
export function preferCrmTimeZone(regional: RecipientZones, crmTimeZone: string | null): RecipientZones {
  const crmZone = crmTimeZone?.trim();
  if (!crmZone || !isValidTimeZone(crmZone)) return regional;
  return {
    zones: [crmZone],
    states: regional.states,
    countries: regional.countries.length > 0 ? regional.countries : ['US'],
    source: 'crm_time_zone',
  };
}

// ---------------------------------------------------------------------------------------------
// Zone arithmetic

interface LocalTime {
  year: number;
  month: number;
  day: number;
  minutes: number;
  weekday: Weekday;
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

function localTime(instant: number, zone: string): LocalTime {
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
function instantOf(zone: string, year: number, month: number, day: number, minutes: number): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const first = wall - offsetAt(wall, zone);
  // A second pass settles a guess made on the other side of a DST transition.
  return wall - offsetAt(first, zone);
}

const toMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};
const isoDate = (t: { year: number; month: number; day: number }): string =>
  `${t.year}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;

function addDays(t: { year: number; month: number; day: number }, n: number) {
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day + n));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: WEEKDAYS[d.getUTCDay()] as Weekday,
  };
}

// ---------------------------------------------------------------------------------------------
// Rules

export interface QuietHoursContext {
  /** States whose declared emergency bans solicitation (Louisiana). */
  emergencies?: readonly string[];
}

function holidayName(region: string, date: { year: number; month: number; day: number }): string | null {
  return HOLIDAYS[region]?.[String(date.year)]?.[isoDate(date)] ?? null;
}

/** The window of `rule` on a local date, or the reason the whole day is banned. */
function windowOn(
  rule: QuietHoursRule,
  date: { year: number; month: number; day: number; weekday: Weekday },
  context: QuietHoursContext,
): { window: [number, number] } | { banned: string } {
  const region = rule.scope.region;
  if (region !== undefined && rule.emergencyBan && context.emergencies?.includes(region)) {
    return { banned: `${region} bans solicitation during a declared state of emergency` };
  }
  if (region !== undefined && rule.holidays) {
    const name = holidayName(region, date);
    if (name !== null) return { banned: `${region} bans solicitation on ${name}` };
  }
  const override = rule.days?.[date.weekday];
  if (override === null)
    return { banned: `${region ?? rule.id} bans solicitation on ${DAY_NAMES[date.weekday]}` };
  const [start, end] = override ?? rule.default;
  return { window: [toMinutes(start), toMinutes(end)] };
}

/** Rules that apply to a recipient in `states` of `countries`; the federal/national rule always. */
export function applicableRules(states: readonly string[], countries: readonly string[]): QuietHoursRule[] {
  const effectiveCountries = new Set(countries);
  for (const state of states) effectiveCountries.add(countryOfRegion(state));
  if (effectiveCountries.size === 0) effectiveCountries.add('US');
  const rules: QuietHoursRule[] = [];
  for (const country of effectiveCountries) {
    const national = RULES.find((r) => r.scope.country === country && r.scope.region === undefined);
    rules.push(national ?? (RULES.find((r) => r.scope.country === '*') as QuietHoursRule));
  }
  for (const state of states) {
    const rule = RULES.find((r) => r.scope.region === state);
    if (rule !== undefined) rules.push(rule);
  }
  return rules;
}

export interface QuietHoursVerdict {
  allowed: boolean;
  /** Stable refusal code: QUIET_HOURS, or UNKNOWN_TIME_ZONE when nothing is known. */
  code?: 'QUIET_HOURS' | 'UNKNOWN_TIME_ZONE';
  reason?: string;
  /** Earliest instant at or after `now` that every (zone, rule) pair allows. */
  nextAllowedAt?: Date;
  /** The rule (and zone) that blocks now, or every rule checked when allowed. */
  rule: string;
  rulesVersion: string;
}

function checkPair(
  rule: QuietHoursRule,
  zone: string,
  instant: number,
  context: QuietHoursContext,
): { ok: true } | { ok: false; reason: string } {
  const local = localTime(instant, zone);
  const w = windowOn(rule, local, context);
  if ('banned' in w) return { ok: false, reason: `${w.banned} (${zone})` };
  const [start, end] = w.window;
  if (local.minutes < start || local.minutes >= end) {
    const hhmm = (m: number) =>
      `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    return {
      ok: false,
      reason: `${rule.id} allows ${hhmm(start)}–${hhmm(end)} on ${DAY_NAMES[local.weekday]}; it is ${hhmm(local.minutes)} in ${zone}`,
    };
  }
  return { ok: true };
}

/** Earliest instant ≥ `from` that one (zone, rule) pair allows, or null within two weeks. */
function nextOpening(
  rule: QuietHoursRule,
  zone: string,
  from: number,
  context: QuietHoursContext,
): number | null {
  const today = localTime(from, zone);
  for (let i = 0; i < 15; i++) {
    const date = addDays(today, i);
    const w = windowOn(rule, date, context);
    if ('banned' in w) continue;
    const start = instantOf(zone, date.year, date.month, date.day, w.window[0]);
    const end = instantOf(zone, date.year, date.month, date.day, w.window[1]);
    if (from < end) return Math.max(from, start);
  }
  return null;
}

/**
 * Whether a text may leave now: every rule (federal or national, plus each state's) must allow
 * it in every candidate zone, so the strictest combination wins. When blocked, `nextAllowedAt`
 * is the earliest instant that satisfies all pairs at once.
 */
export function evaluateQuietHours(input: {
  zones: readonly string[];
  states: readonly string[];
  countries?: readonly string[];
  now: Date;
  context?: QuietHoursContext;
}): QuietHoursVerdict {
  const context = input.context ?? {};
  const zones = input.zones.filter(isValidTimeZone);
  const rules = applicableRules(input.states, input.countries ?? []);
  const ruleIds = rules.map((r) => r.id).join('+');
  if (zones.length === 0) {
    return {
      allowed: false,
      code: 'UNKNOWN_TIME_ZONE',
      reason: 'The recipient’s time zone is unknown; confirm it before texting.',
      rule: ruleIds,
      rulesVersion: QUIET_HOURS_RULES_VERSION,
    };
  }
  const pairs = zones.flatMap((zone) => rules.map((rule) => ({ zone, rule })));
  const now = input.now.getTime();
  let first: { rule: string; reason: string } | null = null;
  for (const { zone, rule } of pairs) {
    const check = checkPair(rule, zone, now, context);
    if (!check.ok) {
      first = { rule: `${rule.id}@${zone}`, reason: check.reason };
      break;
    }
  }
  if (first === null) return { allowed: true, rule: ruleIds, rulesVersion: QUIET_HOURS_RULES_VERSION };

  // Each step jumps to the earliest opening of the first pair that still refuses; no pair's
  // opening can be later than the joint answer, so the first instant all accept is the earliest.
  let t: number | null = now;
  for (let step = 0; step < 200 && t !== null; step++) {
    const at: number = t;
    const blocking = pairs.find(({ zone, rule }) => !checkPair(rule, zone, at, context).ok);
    if (blocking === undefined) break;
    const next = nextOpening(blocking.rule, blocking.zone, at, context);
    t = next === null || next <= at ? null : next;
  }
  return {
    allowed: false,
    code: 'QUIET_HOURS',
    reason: first.reason,
    ...(t === null ? {} : { nextAllowedAt: new Date(t) }),
    rule: first.rule,
    rulesVersion: QUIET_HOURS_RULES_VERSION,
  };
}

// ---------------------------------------------------------------------------------------------
// Frequency cap

export interface FrequencyCapVerdict {
  allowed: boolean;
  /** The tightest cap that applies, or null when no state caps messages. */
  limit: number | null;
  /** States whose cap applies (FL, OK, MD: three per 24 h on the same subject). */
  states: string[];
  code?: 'FREQUENCY_CAP';
  reason?: string;
}

/** Blocks the fourth message on the same subject within a rolling 24 h in FL, OK and MD. */
export function evaluateFrequencyCap(input: {
  states: readonly string[];
  sentInLast24h: number;
}): FrequencyCapVerdict {
  const capped = RULES.filter(
    (r) =>
      r.frequencyCapPer24h !== undefined &&
      r.scope.region !== undefined &&
      input.states.includes(r.scope.region),
  );
  if (capped.length === 0) return { allowed: true, limit: null, states: [] };
  const limit = Math.min(...capped.map((r) => r.frequencyCapPer24h as number));
  const states = capped.map((r) => r.scope.region as string);
  if (input.sentInLast24h < limit) return { allowed: true, limit, states };
  return {
    allowed: false,
    limit,
    states,
    code: 'FREQUENCY_CAP',
    reason: `${states.join(', ')} allow at most ${limit} messages on the same subject per 24 hours; ${input.sentInLast24h} already sent.`,
  };
}

/** Whether the holiday calendar covers `year`; outside it, holiday bans cannot be applied. */
export function holidayCalendarCovers(year: number): boolean {
  return HOLIDAY_YEARS.has(year);
}
