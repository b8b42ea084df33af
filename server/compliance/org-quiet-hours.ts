/**
 * The org's own quiet-hours policy (#17 item 3), set by its admins as `quietHours.window`,
 * `quietHours.days` and `quietHours.emergencyStates`: the hours and weekdays it texts in the
 * recipient's local time, and the declared states of emergency it honours. Pure. quiet-hours.ts
 * checks the org's hours as one more rule beside the law's in every zone, so the hours that
 * count each day are the intersection: the policy can only narrow the law, never widen it.
 */
import ruleData from './data/quiet-hours-rules.json' with { type: 'json' };
import { countryOfRegion, isKnownRegion } from './recipient-zones.ts';
import { localTime, type Weekday } from './zone-clock.ts';

/** The org's own sending hours in the recipient's local time (quietHours.window and .days). */
export interface OrgSendingHours {
  /** [start, end) as local HH:MM ("24:00": until midnight), or null: the law's hours. */
  window: readonly [string, string] | null;
  /** The weekdays the org texts on at all, in week order, or null: every day the law allows. */
  days: readonly Weekday[] | null;
}

/** The whole policy as the decision takes it from `orgs.settings.quietHours`. */
export interface OrgQuietHoursPolicy extends OrgSendingHours {
  /** Declared states of emergency the org honours: they fill QuietHoursContext.emergencies. */
  emergencyStates: readonly string[];
}

/** No policy of the org's own: the law's hours only. */
export const NO_ORG_POLICY: OrgQuietHoursPolicy = Object.freeze({
  window: null,
  days: null,
  emergencyStates: Object.freeze([]),
});

/** The states whose rules ban texting during a declared state of emergency (LA in 2025.1). */
export const EMERGENCY_BAN_STATES: readonly string[] = (
  ruleData.rules as Array<{ scope: { region?: string }; emergencyBan?: boolean }>
)
  .filter((r) => r.emergencyBan === true && r.scope.region !== undefined)
  .map((r) => r.scope.region as string);

const WEEK: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAME: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/** What an admin typed, checked: the value to store, or what is wrong with it. */
export type SettingCheck =
  | { ok: true; value: string }
  | { ok: false; problem: string; details?: Record<string, unknown> };

const WINDOW = /^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$/;
const pad = (n: number) => String(n).padStart(2, '0');

/** `quietHours.window`: "HH:MM-HH:MM", start before end, within 00:00–24:00; stored as "09:00-18:00". */
export function checkWindow(raw: string): SettingCheck {
  const m = WINDOW.exec(raw.trim());
  const shape =
    'quietHours.window is the hours the organisation texts in, recipient time, as HH:MM-HH:MM (e.g. 09:00-18:00)';
  if (m === null) return { ok: false, problem: `${shape}; got "${raw}".` };
  const [sh, sm, eh, em] = m.slice(1).map(Number) as [number, number, number, number];
  const minutes = (h: number, mi: number) => (h > 24 || mi > 59 || (h === 24 && mi > 0) ? null : h * 60 + mi);
  const start = minutes(sh, sm);
  const end = minutes(eh, em);
  if (start === null || end === null)
    return { ok: false, problem: `${shape}, within 00:00–24:00; got "${raw}".` };
  if (start >= end)
    return {
      ok: false,
      problem: `quietHours.window must start before it ends, within one day (00:00–24:00); got "${raw}".`,
    };
  const law = widestLegalWindow();
  if (end <= law.start || start >= law.end)
    return {
      ok: false,
      problem: `quietHours.window ${raw} never meets the hours the law allows texting in (at most ${hhmm(law.start)}–${hhmm(law.end)} recipient time anywhere), so no text would ever leave; choose hours inside them.`,
      details: { lawAllows: `${hhmm(law.start)}-${hhmm(law.end)}` },
    };
  return { ok: true, value: `${pad(sh)}:${pad(sm)}-${pad(eh)}:${pad(em)}` };
}

const hhmm = (minutes: number) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
const toMinutes = (text: string) => {
  const [h, m] = text.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** The earliest start and latest end of any jurisdiction's window, any day: no org window outside it can ever send. */
function widestLegalWindow(): { start: number; end: number } {
  const windows = (
    ruleData.rules as Array<{ default: string[]; days?: Record<string, string[] | null> }>
  ).flatMap((r) => [r.default, ...Object.values(r.days ?? {}).filter((w): w is string[] => w !== null)]);
  return {
    start: Math.min(...windows.map((w) => toMinutes(w[0] ?? '00:00'))),
    end: Math.max(...windows.map((w) => toMinutes(w[1] ?? '24:00'))),
  };
}

const DAY_WORDS: Record<string, Weekday> = Object.fromEntries(
  WEEK.flatMap((d) => [
    [d, d],
    [DAY_NAME[d].toLowerCase(), d],
  ]),
);

/** `quietHours.days`: weekdays, comma-separated ("mon,tue,wed,thu,fri"); stored in week order. */
export function checkDays(raw: string): SettingCheck {
  const words = raw.split(',').map((w) => w.trim().toLowerCase());
  const unknown = words.filter((w) => !Object.hasOwn(DAY_WORDS, w));
  if (unknown.length > 0 || words.length === 0)
    return {
      ok: false,
      problem: `quietHours.days lists the weekdays the organisation texts on, comma-separated: ${WEEK.join(', ')}; "${unknown[0] ?? raw}" is not one.`,
      details: { unknown },
    };
  const days = new Set(words.map((w) => DAY_WORDS[w]));
  return { ok: true, value: WEEK.filter((d) => days.has(d)).join(',') };
}

/** `quietHours.emergencyStates`: US states (two letters) whose rules ban texting during a declared emergency. */
export function checkEmergencyStates(raw: string): SettingCheck {
  const codes = [...new Set(raw.split(',').map((c) => c.trim().toUpperCase()))];
  const known = EMERGENCY_BAN_STATES.join(', ');
  const unknown = codes.filter(
    (c) => !/^[A-Z]{2}$/.test(c) || !isKnownRegion(c) || countryOfRegion(c) !== 'US',
  );
  if (unknown.length > 0)
    return {
      ok: false,
      problem: `quietHours.emergencyStates takes US state codes, comma-separated (e.g. LA); ${unknown.map((c) => `"${c}"`).join(', ')} ${unknown.length === 1 ? 'is not one' : 'are not'}.`,
      details: { unknown },
    };
  // A state whose rules have no emergency ban would be a setting that changes nothing.
  const without = codes.filter((c) => !EMERGENCY_BAN_STATES.includes(c));
  if (without.length > 0)
    return {
      ok: false,
      problem: `${without.join(', ')} ${without.length === 1 ? 'has' : 'have'} no ban on texting during a declared emergency in the quiet-hours rules (version ${ruleData.version}); states with one: ${known}.`,
      details: { unknown: without, statesWithEmergencyBan: EMERGENCY_BAN_STATES },
    };
  return { ok: true, value: codes.join(',') };
}

/**
 * The policy from `orgs.settings` (jsonb), parsed at the boundary: what the settings route stored
 * is valid, and anything else (a hand-edited row) counts as unset rather than failing a send.
 */
export function quietHoursPolicyOf(settings: unknown): OrgQuietHoursPolicy {
  const all = (typeof settings === 'object' && settings !== null ? settings : {}) as Record<string, unknown>;
  const raw = all.quietHours;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return NO_ORG_POLICY;
  const q = raw as Record<string, unknown>;
  const window = typeof q.window === 'string' ? checkWindow(q.window) : null;
  const days = typeof q.days === 'string' ? checkDays(q.days) : null;
  return {
    window: window?.ok === true ? (window.value.split('-') as [string, string]) : null,
    days: days?.ok === true ? (days.value.split(',') as Weekday[]) : null,
    emergencyStates:
      typeof q.emergencyStates === 'string'
        ? q.emergencyStates.split(',').filter((c) => /^[A-Z]{2}$/.test(c))
        : [],
  };
}

/** The org's own hours, or undefined when it keeps none (the law's hours only). */
export function orgHoursOf(policy: OrgQuietHoursPolicy): OrgSendingHours | undefined {
  return policy.window === null && policy.days === null
    ? undefined
    : { window: policy.window, days: policy.days };
}

/** The org's hours as a rule (a QuietHoursRule): its window every day it texts, every other day banned. */
export function orgRule(hours: OrgSendingHours): {
  id: string;
  scope: { country: string };
  default: [string, string];
  days: Partial<Record<Weekday, null>>;
  source: string;
} {
  const days: Partial<Record<Weekday, null>> = {};
  for (const day of WEEK) if (hours.days !== null && !hours.days.includes(day)) days[day] = null;
  const [start, end] = hours.window ?? ['00:00', '24:00'];
  return { id: 'org-policy', scope: { country: '*' }, default: [start, end], days, source: 'org settings' };
}

/** "Monday to Friday", "Monday, Wednesday and Friday", "every day". */
function dayList(days: readonly Weekday[]): string {
  if (days.length === WEEK.length) return 'every day';
  const runs: Weekday[][] = [];
  for (const day of WEEK) {
    if (!days.includes(day)) continue;
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (run !== undefined && last !== undefined && WEEK.indexOf(last) === WEEK.indexOf(day) - 1)
      run.push(day);
    else runs.push([day]);
  }
  const names = runs.flatMap((run) =>
    run.length >= 3
      ? [`${DAY_NAME[run[0] as Weekday]} to ${DAY_NAME[run.at(-1) as Weekday]}`]
      : run.map((d) => DAY_NAME[d]),
  );
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The org's hours in a sentence: "Your organisation texts 09:00–18:00 recipient time, Monday to Friday". */
export function describeOrgHours(hours: OrgSendingHours): string {
  const days = hours.days === null ? null : dayList(hours.days);
  if (hours.window === null)
    return days === null || days === 'every day'
      ? 'Your organisation texts every day the law allows'
      : `Your organisation texts ${days} only`;
  const window = `${hours.window[0]}–${hours.window[1]} recipient time`;
  return `Your organisation texts ${window}${days === null ? '' : `, ${days}`}`;
}

/** Why the org's own hours refuse at `instant`: its policy, and the recipient's clock. */
export function orgReason(hours: OrgSendingHours, zone: string, instant: number): string {
  const local = localTime(instant, zone);
  const clock = `${pad(Math.floor(local.minutes / 60))}:${pad(local.minutes % 60)}`;
  return `${describeOrgHours(hours)}; it is ${clock} on ${DAY_NAME[local.weekday]} in ${zone}`;
}
