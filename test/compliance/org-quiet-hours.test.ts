import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkDays,
  checkEmergencyStates,
  checkWindow,
  describeOrgHours,
  type OrgSendingHours,
  quietHoursPolicyOf,
} from '../../server/compliance/org-quiet-hours.ts';
import { judgeQuietHours } from '../../server/compliance/quiet-hours.ts';
import { resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';
import { instants } from './dst-instants.ts';

// #17 item 3: the org's own quiet-hours policy. Its hours are one more rule beside the law's in
// every zone: the hours that count are the intersection, and the next allowed instant honours both.

const at = (iso: string) => new Date(iso);
const BUSINESS: OrgSendingHours = { window: ['09:00', '18:00'], days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
const judge = (phoneE164: string, iso: string, org?: OrgSendingHours, emergencies: string[] = []) =>
  judgeQuietHours({
    ...resolveRecipientZones({ phoneE164 }),
    now: at(iso),
    org,
    context: { emergencies },
  });

const DC = '+12025550143'; // America/New_York, federal hours only
const BOISE = '+12085550100'; // America/Boise and America/Los_Angeles
const TEXAS = '+12145550100'; // America/Chicago, TX: 09:00 weekdays, 12:00 on Sundays
const KENTUCKY = '+15025550100'; // America/New_York, KY: 10:00–21:00
const NEW_ORLEANS = '+15045550100'; // America/Chicago, LA: emergency ban

describe('the org window intersected with the law', () => {
  it('holds a text outside the org window and names the org’s policy', () => {
    const late = judge(DC, '2026-06-09T22:30:00Z', BUSINESS); // Tuesday 18:30 EDT
    expect(late).toMatchObject({ allowed: false, code: 'QUIET_HOURS', by: 'org' });
    expect(late.reason).toBe(
      'Your organisation texts 09:00–18:00 recipient time, Monday to Friday; it is 18:30 on Tuesday in America/New_York',
    );
    expect(late.nextAllowedAt).toEqual(at('2026-06-10T13:00:00Z')); // Wednesday 09:00 EDT
    expect(judge(DC, '2026-06-09T21:59:00Z', BUSINESS).allowed).toBe(true); // 17:59
    expect(judge(DC, '2026-06-09T22:00:00Z', BUSINESS).allowed).toBe(false); // 18:00: the end is not in it
    const early = judge(DC, '2026-06-09T12:30:00Z', BUSINESS); // 08:30: the law allows, the org not yet
    expect(early).toMatchObject({ allowed: false, by: 'org' });
    expect(early.nextAllowedAt).toEqual(at('2026-06-09T13:00:00Z'));
  });

  it('never lets a wider org window permit what the law forbids (06:00–23:00 at 22:00)', () => {
    const wide: OrgSendingHours = { window: ['06:00', '23:00'], days: null };
    const night = judge(DC, '2026-06-10T02:00:00Z', wide); // Tuesday 22:00 EDT
    expect(night).toMatchObject({ allowed: false, by: 'law', rule: 'US-federal@America/New_York' });
    expect(night.nextAllowedAt).toEqual(at('2026-06-10T12:00:00Z')); // the law's 08:00, not the org's 06:00
    expect(judge(DC, '2026-06-09T11:00:00Z', wide)).toMatchObject({ allowed: false, by: 'law' }); // 07:00
  });

  it('never allows, with any org window and days, an instant the law refuses', () => {
    const clock = fc
      .tuple(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 96 }))
      .filter(([a, b]) => a < b)
      .map(([a, b]) => {
        const hhmm = (q: number) =>
          `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
        return [hhmm(a), hhmm(b)] as [string, string];
      });
    const hours: fc.Arbitrary<OrgSendingHours> = fc.record({
      window: fc.option(clock, { nil: null }),
      days: fc.option(
        fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const, { minLength: 1 }),
        {
          nil: null,
        },
      ),
    });
    const phones = fc.constantFrom(DC, BOISE, TEXAS, KENTUCKY, NEW_ORLEANS, '+18005550100', '+14165550100');
    fc.assert(
      fc.property(phones, hours, instants, (phone, org, instant) => {
        const zones = resolveRecipientZones({ phoneE164: phone });
        const now = new Date(instant);
        const withOrg = judgeQuietHours({ ...zones, now, org });
        if (withOrg.allowed) expect(judgeQuietHours({ ...zones, now }).allowed).toBe(true);
        // The next allowed instant is one both allow.
        if (withOrg.nextAllowedAt !== undefined)
          expect(judgeQuietHours({ ...zones, now: withOrg.nextAllowedAt, org }).allowed).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('needs the org window open in every zone the recipient may be in', () => {
    // Tuesday 10 March 2026: Boise on MDT (UTC−6), Los Angeles on PDT (UTC−7).
    expect(judge(BOISE, '2026-03-10T22:30:00Z', BUSINESS).allowed).toBe(true); // 16:30 Boise, 15:30 LA
    const late = judge(BOISE, '2026-03-11T00:30:00Z', BUSINESS); // 18:30 Boise, 17:30 LA
    expect(late).toMatchObject({ allowed: false, by: 'org', rule: 'org-policy@America/Boise' });
    // Both must have reached 09:00: Los Angeles, an hour behind, decides.
    expect(late.nextAllowedAt).toEqual(at('2026-03-11T16:00:00Z'));
  });

  it('takes the later start and the earlier end of the day’s two windows (a Texas Sunday)', () => {
    const everyDay: OrgSendingHours = { window: ['09:00', '18:00'], days: null };
    const sundayMorning = judge(TEXAS, '2026-06-07T15:00:00Z', everyDay); // Sunday 10:00 CDT
    expect(sundayMorning).toMatchObject({ allowed: false, by: 'law', rule: 'TX@America/Chicago' });
    expect(sundayMorning.nextAllowedAt).toEqual(at('2026-06-07T17:00:00Z')); // TX's 12:00
    const sundayEvening = judge(TEXAS, '2026-06-07T23:30:00Z', everyDay); // 18:30: TX allows until 21:00
    expect(sundayEvening).toMatchObject({ allowed: false, by: 'org' });
    expect(sundayEvening.nextAllowedAt).toEqual(at('2026-06-08T14:00:00Z')); // Monday 09:00 CDT
  });

  it('finds Monday 09:00 across the weekend on which clocks fall back or spring forward', () => {
    const fall = judge(DC, '2026-10-30T22:30:00Z', BUSINESS); // Friday 18:30 EDT; clocks fall back Sunday
    expect(fall.nextAllowedAt).toEqual(at('2026-11-02T14:00:00Z')); // Monday 09:00 EST
    const spring = judge(DC, '2026-03-06T23:30:00Z', BUSINESS); // Friday 18:30 EST; clocks spring forward Sunday
    expect(spring.nextAllowedAt).toEqual(at('2026-03-09T13:00:00Z')); // Monday 09:00 EDT
  });

  it('skips the weekdays the org does not text on, and says which it does', () => {
    const saturday = judge(DC, '2026-06-13T14:00:00Z', BUSINESS); // Saturday 10:00 EDT
    expect(saturday.reason).toBe(
      'Your organisation texts 09:00–18:00 recipient time, Monday to Friday; it is 10:00 on Saturday in America/New_York',
    );
    expect(saturday.nextAllowedAt).toEqual(at('2026-06-15T13:00:00Z'));
    const daysOnly = judge(DC, '2026-06-09T14:00:00Z', { window: null, days: ['mon', 'wed', 'fri'] });
    expect(daysOnly.reason).toMatch(/^Your organisation texts Monday, Wednesday and Friday only; /);
    expect(daysOnly.nextAllowedAt).toEqual(at('2026-06-10T12:00:00Z')); // Wednesday at the law's 08:00
  });

  it('gives no next instant when the org window and a state’s never meet', () => {
    const verdict = judge(KENTUCKY, '2026-06-09T13:00:00Z', { window: ['08:00', '10:00'], days: null });
    expect(verdict).toMatchObject({ allowed: false, code: 'QUIET_HOURS' });
    expect(verdict.nextAllowedAt).toBeUndefined();
  });

  it('bans Louisiana all day while the org honours its declared emergency, and nowhere else', () => {
    expect(judge(NEW_ORLEANS, '2026-06-09T16:00:00Z').allowed).toBe(true);
    const emergency = judge(NEW_ORLEANS, '2026-06-09T16:00:00Z', undefined, ['LA']);
    expect(emergency).toMatchObject({ allowed: false, by: 'law', rule: 'LA@America/Chicago' });
    expect(emergency.reason).toContain('declared state of emergency');
    expect(emergency.nextAllowedAt).toBeUndefined(); // an emergency has no known end
    expect(judge(DC, '2026-06-09T16:00:00Z', undefined, ['LA']).allowed).toBe(true);
  });
});

describe('the settings an admin types', () => {
  it('takes a window as HH:MM-HH:MM within one day and stores it padded', () => {
    expect(checkWindow('9:00-18:00')).toEqual({ ok: true, value: '09:00-18:00' });
    expect(checkWindow(' 08:30 – 24:00 ')).toEqual({ ok: true, value: '08:30-24:00' });
    for (const bad of ['18:00-09:00', '09:00-09:00', '09:00-24:30', '25:00-26:00', '09:60-18:00', '9-18', ''])
      expect(checkWindow(bad).ok, bad).toBe(false);
  });

  it('refuses a window that never meets the hours any law allows (no text would ever leave)', () => {
    // The widest hours of any jurisdiction in the rules: 08:00 (US federal) to 21:30.
    for (const never of ['06:00-08:00', '21:30-23:00', '00:00-07:59'])
      expect(checkWindow(never), never).toMatchObject({ ok: false, details: { lawAllows: '08:00-21:30' } });
    // Touching the law's hours by a minute is a (narrow) window.
    expect(checkWindow('07:00-08:01').ok).toBe(true);
  });

  it('takes weekdays in any order and stores them in week order', () => {
    expect(checkDays('fri, Mon,tue,wed,thu,mon')).toEqual({ ok: true, value: 'mon,tue,wed,thu,fri' });
    expect(checkDays('saturday,sun')).toEqual({ ok: true, value: 'sat,sun' });
    expect(checkDays('mon,funday')).toMatchObject({ ok: false, details: { unknown: ['funday'] } });
    expect(checkDays('').ok).toBe(false);
  });

  it('takes the states whose rules ban texting in a declared emergency, and names any other', () => {
    expect(checkEmergencyStates('la')).toEqual({ ok: true, value: 'LA' });
    const unknown = checkEmergencyStates('LA,ZZ');
    expect(unknown).toMatchObject({ ok: false, details: { unknown: ['ZZ'] } });
    expect(unknown.ok ? '' : unknown.problem).toContain('"ZZ"');
    expect(checkEmergencyStates('QC')).toMatchObject({ ok: false, details: { unknown: ['QC'] } }); // a province
    const noBan = checkEmergencyStates('TX');
    expect(noBan).toMatchObject({ ok: false, details: { unknown: ['TX'], statesWithEmergencyBan: ['LA'] } });
  });

  it('reads a hand-edited policy leniently: what does not parse is unset', () => {
    expect(
      quietHoursPolicyOf({ quietHours: { window: '18:00-09:00', days: 7, emergencyStates: 'LA' } }),
    ).toEqual({
      window: null,
      days: null,
      emergencyStates: ['LA'],
    });
    expect(quietHoursPolicyOf({ quietHours: { window: '09:00-18:00', days: 'sat,sun' } })).toMatchObject({
      window: ['09:00', '18:00'],
      days: ['sat', 'sun'],
    });
  });

  it('describes the days in words', () => {
    expect(describeOrgHours({ window: null, days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] })).toBe(
      'Your organisation texts every day the law allows',
    );
    expect(describeOrgHours({ window: ['10:00', '16:00'], days: ['mon', 'tue', 'thu', 'fri', 'sat'] })).toBe(
      'Your organisation texts 10:00–16:00 recipient time, Monday, Tuesday and Thursday to Saturday',
    );
  });
});
