/**
 * Random instants for the cache property tests (#20): most within two hours of a DST transition
 * of the zones the relay resolves or is given (US, Europe, Newfoundland's half-hour zone, Lord
 * Howe's 30-minute shift, Auckland), found from Intl itself, with random seconds and
 * milliseconds; some anywhere from 1850 to 2100.
 */
import fc from 'fast-check';

/** Zones that matter to the caches: half- and quarter-hour offsets, 30-minute DST, the far side of the date line. */
export const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'America/Adak',
  'Pacific/Honolulu',
  'America/St_Johns',
  'America/Halifax',
  'America/Puerto_Rico',
  'Europe/London',
  'Europe/Berlin',
  'Pacific/Auckland',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Asia/Kolkata',
  'Africa/Monrovia',
] as const;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The wall clock of `zone` at `instant` as Intl formats it, two digits a field, with the weekday:
 * the reference the caches are compared with, built here and not with the code under test.
 */
export function referenceParts(instant: number, zone: string): Record<string, string> {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
}

/** The offset Intl implies at `instant`, with the milliseconds dropped as Intl drops them. */
export function referenceOffset(instant: number, zone: string): number {
  const p = referenceParts(instant, zone);
  const field = (name: string) => Number(p[name]);
  const wall = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return wall - Math.floor(instant / 1000) * 1000;
}

/** Every offset change of `zone` in 2026 and 2027, to the second: found day by day, then halved. */
function transitionsOf(zone: string): number[] {
  const found: number[] = [];
  for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2028, 0, 1); day += DAY) {
    let [lo, hi] = [day, day + DAY];
    const before = referenceOffset(lo, zone);
    if (before === referenceOffset(hi, zone)) continue;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (referenceOffset(mid, zone) === before) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

/** The first instant of each new offset in the zones above, 2026–2027. */
export const TRANSITIONS: readonly number[] = ZONES.flatMap(transitionsOf);

/** An instant within two hours of a transition, or anywhere 1850–2100. */
export const instants: fc.Arbitrary<number> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -2 * HOUR, max: 2 * HOUR }))
      .map(([t, ms]) => t + ms),
  },
  { weight: 1, arbitrary: fc.integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2100, 0, 1) }) },
);
