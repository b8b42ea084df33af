import { describe, expect, it } from 'vitest';
import { deriveConsent } from '../../server/compliance/consent.ts';
import {
  type DequeueDecisionFacts,
  decideOutbound,
  type OutboundDecisionFacts,
} from '../../server/compliance/decide.ts';
import { NO_ORG_POLICY } from '../../server/compliance/org-quiet-hours.ts';
import { parseOrgSettings } from '../../server/compliance/org-settings.ts';

const NOON_DC = new Date('2026-11-24T17:00:00Z');

const facts = (patch: Partial<OutboundDecisionFacts> = {}): OutboundDecisionFacts => ({
  text: 'Your appointment is at 3pm.',
  recipient: { phone: '+12025550143' },
  consent: { status: 'opted_in', since: new Date('2026-11-01T00:00:00Z'), source: 'web_form' },
  pause: null,
  settings: parseOrgSettings('Acme Dental', {}),
  lastMessageAt: new Date('2026-11-23T00:00:00Z'),
  sentInLast24h: 0,
  now: NOON_DC,
  ...patch,
});

const codes = (f: OutboundDecisionFacts) => decideOutbound(f).refusals.map((r) => r.code);

describe('decideOutbound', () => {
  it('allows an ordinary text to an opted-in number at midday, unchanged', () => {
    expect(decideOutbound(facts())).toMatchObject({
      allowed: true,
      refusals: [],
      finalText: 'Your appointment is at 3pm.',
      segments: 1,
      encoding: 'GSM-7',
      nextAllowedAt: null,
      recipientLocalTime: {
        zone: 'America/New_York',
        localTime: '2026-11-24T12:00',
        zoneSource: 'area_code',
      },
    });
  });

  it('reports every refusal, consent first', () => {
    expect(
      codes(
        facts({
          consent: { status: 'unknown', since: null, source: null },
          text: 'SSN 123-45-6789',
          now: new Date('2026-11-24T04:00:00Z'),
        }),
      ),
    ).toEqual(['NO_CONSENT', 'SENSITIVE_CONTENT', 'QUIET_HOURS']);
  });

  it('does not list a pause for a number that opted out (the opt-out says it all)', () => {
    const pause = { reviewId: 'r1', reason: 'bare decline', since: NOON_DC };
    expect(codes(facts({ pause }))).toEqual(['PAUSED_FOR_REVIEW']);
    expect(
      codes(facts({ pause, consent: { status: 'opted_out', since: NOON_DC, source: 'keyword' } })),
    ).toEqual(['OPTED_OUT']);
  });

  it('lets PHI through only when the org allows it', () => {
    const text = 'Your biopsy results are in.';
    expect(codes(facts({ text }))).toEqual(['SENSITIVE_CONTENT']);
    expect(codes(facts({ text, settings: parseOrgSettings('Acme', { phiAllowed: true }) }))).toEqual([]);
  });

  it('applies the Florida cap of three per 24 hours', () => {
    const fl = { phone: '+13055550100' };
    expect(codes(facts({ recipient: fl, sentInLast24h: 2 }))).toEqual([]);
    expect(codes(facts({ recipient: fl, sentInLast24h: 3 }))).toEqual(['FREQUENCY_CAP']);
  });

  it('judges quiet hours at sendAt and marks a quiet-hours-only refusal as schedulable', () => {
    const night = facts({ now: new Date('2026-11-24T03:00:00Z') });
    const refused = decideOutbound(night);
    expect(refused).toMatchObject({
      allowed: false,
      schedulable: true,
      nextAllowedAt: '2026-11-24T13:00:00.000Z',
    });
    const scheduled = decideOutbound({ ...night, sendAt: new Date(refused.nextAllowedAt as string) });
    expect(scheduled.allowed).toBe(true);
  });

  it('prefers the CRM time zone to the area code', () => {
    const at = new Date('2026-11-24T02:30:00Z'); // 21:30 in DC, 18:30 in LA
    expect(codes(facts({ now: at }))).toEqual(['QUIET_HOURS']);
    expect(
      codes(facts({ now: at, recipient: { phone: '+12025550143', crmTimeZone: 'America/Los_Angeles' } })),
    ).toEqual([]);
  });

  it('adds the first-contact notice to a new conversation and counts its segments', () => {
    const decision = decideOutbound(facts({ lastMessageAt: null, text: 'Hi!' }));
    expect(decision.finalText).toBe('Acme Dental: Hi! Reply STOP to opt out.');
    expect(decision.firstContactNotice).toEqual({ identification: true, optOut: true });
  });

  it('refuses a text the notice pushes over the length limit', () => {
    expect(codes(facts({ lastMessageAt: null, text: 'x'.repeat(1590) }))).toEqual(['BODY_TOO_LONG']);
  });
});

describe('org settings', () => {
  it('falls back to safe defaults for missing or malformed values', () => {
    const s = parseOrgSettings('Acme', {
      phiAllowed: 'yes',
      reintroduceAfterDays: -3,
      helpReply: '',
      identificationName: 42,
    });
    expect(s).toMatchObject({ identificationName: 'Acme', phiAllowed: false, reintroduceAfterDays: 30 });
    expect(s.helpReply).toMatch(/^Acme: /);
    expect(parseOrgSettings('Acme', null).doubleOptIn).toBe(false);
  });
});

describe('decideOutbound at dequeue (the outbox worker’s re-check)', () => {
  const OPTED_IN = deriveConsent([{ kind: 'opt_in', source: 'api', occurredAt: NOON_DC }]);
  const atDequeue = (patch: Partial<DequeueDecisionFacts> = {}): DequeueDecisionFacts => ({
    stage: 'dequeue',
    text: 'Your appointment is at 3pm.',
    purpose: 'conversation',
    recipient: { phone: '+12025550143' },
    consent: OPTED_IN,
    pause: null,
    confirmationsSinceOptOut: 0,
    quietHoursExcused: false,
    quietHours: NO_ORG_POLICY,
    now: NOON_DC,
    ...patch,
  });
  const firstCode = (f: DequeueDecisionFacts) => decideOutbound(f).refusals[0]?.code ?? null;

  it('allows a conversation message only with a recorded opt-in', () => {
    expect(firstCode(atDequeue({ consent: deriveConsent([]) }))).toBe('NO_CONSENT');
    expect(decideOutbound(atDequeue())).toMatchObject({ allowed: true, refusals: [] });
  });

  it('refuses everything after an opt-out except one confirmation within five minutes', () => {
    const optedOut = deriveConsent([
      { kind: 'opt_in', source: 'web_form', occurredAt: new Date('2026-11-01T00:00:00Z') },
      { kind: 'opt_out', source: 'keyword', occurredAt: new Date(NOON_DC.getTime() - 2 * 60_000) },
    ]);
    expect(firstCode(atDequeue({ consent: optedOut }))).toBe('OPTED_OUT');
    const confirmation = atDequeue({ purpose: 'opt_out_confirmation', consent: optedOut });
    expect(decideOutbound(confirmation).allowed).toBe(true);
    expect(decideOutbound({ ...confirmation, confirmationsSinceOptOut: 1 }).allowed).toBe(false);
    const late = new Date(NOON_DC.getTime() + 4 * 60_000);
    expect(decideOutbound({ ...confirmation, now: late }).allowed).toBe(false);
    expect(decideOutbound(atDequeue({ purpose: 'help_reply', consent: optedOut })).allowed).toBe(false);
  });

  it('refuses a confirmation when there is no opt-out to confirm', () => {
    expect(firstCode(atDequeue({ purpose: 'opt_out_confirmation' }))).toBe('NO_OPT_OUT');
  });

  it('lets the card warning answer a customer without a recorded opt-in, never an opted-out one', () => {
    const unknown = { status: 'unknown' as const, since: null, source: null };
    expect(decideOutbound(atDequeue({ purpose: 'card_warning', consent: unknown })).allowed).toBe(true);
    const optedOut = { status: 'opted_out' as const, since: NOON_DC, source: 'keyword' };
    expect(decideOutbound(atDequeue({ purpose: 'card_warning', consent: optedOut })).allowed).toBe(false);
  });

  it('re-checks the pause and quiet hours at send time', () => {
    const pause = { reviewId: 'r1', reason: 'unclear reply', since: NOON_DC };
    expect(firstCode(atDequeue({ pause }))).toBe('PAUSED_FOR_REVIEW');
    const night = new Date('2026-11-24T03:00:00Z');
    const held = decideOutbound(atDequeue({ now: night }));
    expect(held).toMatchObject({ allowed: false, schedulable: true });
    expect(held.refusals.map((r) => r.code)).toEqual(['QUIET_HOURS']);
    expect(held.nextAllowedAt).not.toBeNull();
    // A reply the org's reply-window policy let through is not held while its window lasts.
    expect(decideOutbound(atDequeue({ now: night, quietHoursExcused: true })).allowed).toBe(true);
    // System replies answer the customer's own text: quiet hours do not hold them.
    expect(decideOutbound(atDequeue({ purpose: 'help_reply', now: night })).allowed).toBe(true);
  });

  it('refuses with the same code and wording at dequeue as at send', () => {
    const pause = { reviewId: 'r1', reason: 'unclear reply', since: NOON_DC };
    const atSend = decideOutbound(facts({ pause })).refusals[0];
    expect(decideOutbound(atDequeue({ pause })).refusals[0]).toEqual(atSend);
  });
});
