/**
 * Quiet hours and the per-subject frequency cap (issue #4). Pure: the rules are versioned JSON
 * under ./data, where the recipient may be comes from recipient-zones.ts and wall-clock math from
 * zone-clock.ts, so `decideOutbound` gives the same answer for the same inputs at preflight, send
 * and dequeue.
 */

import { BoundedCache } from '../lib/bounded-cache.ts';
import ruleData from './data/quiet-hours-rules.json' with { type: 'json' };
import { holidayName } from './holiday-calendar.ts';
import { type OrgSendingHours, orgReason, orgRule } from './org-quiet-hours.ts';
import { countryOfRegion, isValidTimeZone } from './recipient-zones.ts';
import { addDays, instantOf, type LocalDay, localTime, steadyOffset, type Weekday } from './zone-clock.ts';

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

export const QUIET_HOURS_RULES_VERSION: string = ruleData.version;

const RULES = ruleData.rules as QuietHoursRule[];

const toMinutes = (clock: string): number => {
  const [h, m] = clock.split(':');
  return Number(h) * 60 + Number(m);
};

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

export interface QuietHoursContext {
  /** States whose declared emergency bans solicitation (Louisiana); an org declares them (quietHours.emergencyStates). */
  emergencies?: readonly string[];
}

/** The window of `rule` on a local date, or the reason the whole day is banned. */
function windowOn(
  rule: QuietHoursRule,
  date: LocalDay,
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
  /** Whose hours refuse: the law's, or (the law allowing) the org's own. */
  by?: 'law' | 'org';
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

/** What a quiet-hours verdict is judged from. */
export interface QuietHoursInput {
  zones: readonly string[];
  states: readonly string[];
  countries?: readonly string[];
  now: Date;
  context?: QuietHoursContext;
  /** The org's own hours, judged after the law's in every zone. */
  org?: OrgSendingHours | undefined;
}

interface Pair {
  zone: string;
  rule: QuietHoursRule;
}

/**
 * The earliest instant ≥ `now` that every pair allows, or null within the search's reach. Each
 * step jumps to the earliest opening of the first pair that still refuses; no pair's opening can
 * be later than the joint answer, so the first instant all accept is the earliest. Hours that
 * never meet (an org's window outside a state's) end with null, never with an instant one refuses.
 */
function jointOpening(pairs: readonly Pair[], now: number, context: QuietHoursContext): number | null {
  let t: number | null = now;
  for (let step = 0; step < 200 && t !== null; step++) {
    const at: number = t;
    const blocking = pairs.find(({ zone, rule }) => !checkPair(rule, zone, at, context).ok);
    if (blocking === undefined) return at;
    const next = nextOpening(blocking.rule, blocking.zone, at, context);
    t = next === null || next <= at ? null : next;
  }
  return null;
}

/**
 * Whether a text may leave now: every rule (federal or national, plus each state's) must allow
 * it in every candidate zone, so the strictest combination wins; the org's own hours, when given,
 * are one more rule in every zone, checked after the law's (so a refusal names the law when both
 * refuse). When blocked, `nextAllowedAt` is the earliest instant that satisfies all pairs at once.
 * Worked out every time; the send path asks `evaluateQuietHours`, which remembers the answer for
 * the minute.
 */
export function judgeQuietHours(input: QuietHoursInput): QuietHoursVerdict {
  const context = input.context ?? {};
  const zones = input.zones.filter(isValidTimeZone);
  const own = input.org === undefined ? null : orgRule(input.org);
  const rules = applicableRules(input.states, input.countries ?? []);
  const ruleIds = [...rules, ...(own === null ? [] : [own])].map((r) => r.id).join('+');
  if (zones.length === 0) {
    return {
      allowed: false,
      code: 'UNKNOWN_TIME_ZONE',
      reason: 'The recipient’s time zone is unknown; confirm it before texting.',
      rule: ruleIds,
      rulesVersion: QUIET_HOURS_RULES_VERSION,
    };
  }
  const pairs: Pair[] = zones.flatMap((zone) => rules.map((rule) => ({ zone, rule })));
  if (own !== null) pairs.push(...zones.map((zone) => ({ zone, rule: own })));
  const now = input.now.getTime();
  let first: { pair: Pair; reason: string } | null = null;
  for (const pair of pairs) {
    const check = checkPair(pair.rule, pair.zone, now, context);
    if (!check.ok) {
      first = { pair, reason: check.reason };
      break;
    }
  }
  if (first === null) return { allowed: true, rule: ruleIds, rulesVersion: QUIET_HOURS_RULES_VERSION };
  // The org's hours refuse only where every rule of the law allows (they are checked last).
  const byOrg = first.pair.rule === own ? input.org : undefined;
  const t = jointOpening(pairs, now, context);
  return {
    allowed: false,
    code: 'QUIET_HOURS',
    reason: byOrg === undefined ? first.reason : orgReason(byOrg, first.pair.zone, now),
    ...(t === null ? {} : { nextAllowedAt: new Date(t) }),
    rule: `${first.pair.rule.id}@${first.pair.zone}`,
    by: byOrg === undefined ? 'law' : 'org',
    rulesVersion: QUIET_HOURS_RULES_VERSION,
  };
}

/** Quiet-hours verdicts of recent minutes, keyed by minute and every input (#20). */
const verdicts = new BoundedCache<string, QuietHoursVerdict>(2048);
// Before 1973 some zones were offset by seconds (Africa/Monrovia until 1972), so an opening was
// not always on a whole minute; nothing is remembered for instants that old.
const MEMO_FROM = Date.UTC(1973, 0, 1);
const MINUTE = 60_000;

/**
 * The key of `input`'s verdict, or null when its minute must be judged afresh: the verdict is
 * the same for every instant of a UTC minute when each zone keeps one offset of whole minutes
 * all minute. Then every zone's local date and minute, so every pair's check, is the same all
 * minute; each opening the search jumps to is a local whole minute, so a whole UTC minute, and
 * compares the same with any instant of the minute as with its first.
 */
function verdictKey(input: QuietHoursInput, minute: number): string | null {
  if (minute * MINUTE < MEMO_FROM) return null;
  for (const zone of input.zones) {
    if (!isValidTimeZone(zone)) continue;
    const offset = steadyOffset(minute * MINUTE, zone);
    if (offset === null || offset % MINUTE !== 0) return null;
  }
  // JSON, so no zone or state name can run into the next field.
  return JSON.stringify([
    minute,
    input.zones,
    input.states,
    input.countries ?? [],
    input.context?.emergencies ?? [],
    input.org ?? null,
  ]);
}

const copy = (v: QuietHoursVerdict): QuietHoursVerdict =>
  v.nextAllowedAt === undefined ? { ...v } : { ...v, nextAllowedAt: new Date(v.nextAllowedAt.getTime()) };

/**
 * `judgeQuietHours`, remembered per (inputs, UTC minute of `now`): every send to the same zones
 * in the same minute gets the same verdict without formatting a date. Keyed by the instant
 * given; it never reads a clock. Returns a copy, so a caller cannot change a remembered answer.
 */
export function evaluateQuietHours(input: QuietHoursInput): QuietHoursVerdict {
  const minute = Math.floor(input.now.getTime() / MINUTE);
  const key = verdictKey(input, minute);
  if (key === null) return judgeQuietHours(input);
  const known = verdicts.get(key);
  if (known !== undefined) return copy(known);
  const verdict = judgeQuietHours(input);
  // An opening inside this very minute would differ between its instants; never seen with the
  // rules' windows, but such an answer is not remembered.
  if (verdict.nextAllowedAt === undefined || verdict.nextAllowedAt.getTime() >= (minute + 1) * MINUTE)
    verdicts.set(key, copy(verdict));
  return verdict;
}

/** Entries in the verdict cache, for the test that it stays bounded. */
export const quietHoursCacheSize = (): number => verdicts.size;

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
