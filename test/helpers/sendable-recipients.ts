import { evaluateFrequencyCap, evaluateQuietHours } from '../../server/compliance/quiet-hours.ts';
import { resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';

/**
 * Area codes of places with no state quiet-hours rule and no frequency cap (the federal 08:00 to
 * 21:00 window only): DC, Puerto Rico, Illinois, Colorado, California, Hawaii, American Samoa,
 * Guam. On the clock's face they span only UTC-4 to UTC-14, so they do NOT cover every hour: none
 * is open from 11:00 to 12:00 UTC, and none is quiet from 22:00 to 01:00 UTC. Callers pass the
 * relay's clock, and run the relay at a known hour (daytimeClock, daytimeAheadClock,
 * daytimeAheadSeconds) where the real hour must not matter.
 */
const CANDIDATES = ['202', '787', '312', '303', '415', '808', '684', '671'];

/** True when the relay's gate would let a send to `phone` through at every instant of the span. */
function sendableThroughout(phone: string, from: Date, spanMs: number): boolean {
  const zones = resolveRecipientZones({ phoneE164: phone });
  // Thousands of sends go to each recipient: a capped state would refuse all but the first few.
  if (!evaluateFrequencyCap({ states: zones.states, sentInLast24h: 1_000_000 }).allowed) return false;
  for (let t = 0; t <= spanMs; t += 5 * 60_000) {
    const verdict = evaluateQuietHours({
      zones: zones.zones,
      states: zones.states,
      countries: zones.countries,
      now: new Date(from.getTime() + t),
    });
    if (!verdict.allowed) return false;
  }
  return true;
}

/**
 * `count` recipient numbers (+1 <area> 555 1000, 1001, ...) in an area code that is outside
 * quiet hours for the next `spanMs` (the whole bench run), so the consent gate accepts every send
 * whatever the time of day the bench runs at. Returns the area code too, for the report.
 */
export function sendableRecipients(
  count: number,
  spanMs: number,
  /** The relay's clock now (the real time unless the relay runs on another). */
  now: Date = new Date(),
  /** The first number's last four digits (a second set of recipients starts elsewhere). */
  first = 1000,
): { areaCode: string; phones: string[] } {
  const areaCode =
    CANDIDATES.find((code) => sendableThroughout(`+1${code}555${first}`, now, spanMs)) ??
    (CANDIDATES[0] as string);
  return {
    areaCode,
    phones: Array.from({ length: count }, (_, i) => `+1${areaCode}555${first + i}`),
  };
}

/** Frequency-capped places (Florida's 305, then Maryland's 410): at most 3 texts per 24 hours each. */
const CAPPED = ['305', '410'];
/** Numbers per capped area code: 555 2000 to 555 9999. */
const PER_CAPPED_AREA = 8000;
export const MAX_CAPPED_RECIPIENTS = CAPPED.length * PER_CAPPED_AREA;

/**
 * `count` recipients whose state caps texts per 24 hours (Florida, then Maryland), so every send
 * to them runs the frequency-cap count. Both are on Eastern time: the caller's relay must be in
 * their daytime (daytimeClock and friends).
 */
export function cappedRecipients(count: number): string[] {
  if (count > MAX_CAPPED_RECIPIENTS) throw new Error(`at most ${MAX_CAPPED_RECIPIENTS} capped recipients`);
  return Array.from({ length: count }, (_, i) => {
    const area = CAPPED[Math.floor(i / PER_CAPPED_AREA)] as string;
    return `+1${area}555${2000 + (i % PER_CAPPED_AREA)}`;
  });
}

/**
 * A number whose recipient is inside quiet hours at `now` and for the next `spanMs` (at 17:00 UTC
 * that is Guam's); throws between 22:00 and 01:00 UTC, when every candidate is open.
 */
export function quietRecipient(spanMs = 10 * 60_000, now: Date = new Date()): string {
  for (const code of CANDIDATES) {
    const phone = `+1${code}5551999`;
    const zones = resolveRecipientZones({ phoneE164: phone });
    let quiet = true;
    for (let t = 0; t <= spanMs && quiet; t += 5 * 60_000) {
      quiet = !evaluateQuietHours({ ...zones, now: new Date(now.getTime() + t) }).allowed;
    }
    if (quiet) return phone;
  }
  throw new Error('no candidate area code is in quiet hours now');
}
