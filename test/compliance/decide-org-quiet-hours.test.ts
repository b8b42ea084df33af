import { describe, expect, it } from 'vitest';
import { deriveConsent } from '../../server/compliance/consent.ts';
import {
  type DequeueDecisionFacts,
  decideOutbound,
  type OutboundDecisionFacts,
} from '../../server/compliance/decide.ts';
import { parseOrgSettings } from '../../server/compliance/org-settings.ts';

// #17 item 3: the org's quiet-hours policy in the one decision preflight, send and dequeue share.

const BUSINESS = { window: '09:00-18:00', days: 'mon,tue,wed,thu,fri' };
const settings = (quietHours: Record<string, string>, replyWindow = 0) =>
  parseOrgSettings('Acme Dental', { quietHours, quietHoursReplyWindowMinutes: replyWindow });
const OPTED_IN = deriveConsent([
  { kind: 'opt_in', source: 'api', occurredAt: new Date('2026-06-01T00:00:00Z') },
]);

const composed = (now: string, patch: Partial<OutboundDecisionFacts> = {}): OutboundDecisionFacts => ({
  text: 'Your crown is ready.',
  recipient: { phone: '+12025550143' }, // America/New_York
  consent: OPTED_IN,
  pause: null,
  settings: settings(BUSINESS),
  lastMessageAt: new Date('2026-06-08T00:00:00Z'),
  sentInLast24h: 0,
  now: new Date(now),
  ...patch,
});

const dequeued = (now: string, patch: Partial<DequeueDecisionFacts> = {}): DequeueDecisionFacts => ({
  stage: 'dequeue',
  text: 'Your crown is ready.',
  purpose: 'conversation',
  recipient: { phone: '+12025550143' },
  consent: OPTED_IN,
  pause: null,
  confirmationsSinceOptOut: 0,
  quietHoursExcused: false,
  quietHours: settings(BUSINESS).quietHours,
  now: new Date(now),
  ...patch,
});

describe('decideOutbound with the org’s quiet-hours policy', () => {
  it('refuses at 18:30 with QUIET_HOURS naming the org’s policy, schedulable for the next 09:00', () => {
    const decision = decideOutbound(composed('2026-06-12T22:30:00Z')); // Friday 18:30 EDT
    expect(decision).toMatchObject({
      allowed: false,
      schedulable: true,
      nextAllowedAt: '2026-06-15T13:00:00.000Z', // Monday 09:00: Saturday and Sunday are not listed
    });
    const [refusal] = decision.refusals;
    expect(refusal?.code).toBe('QUIET_HOURS');
    expect(refusal?.message).toBe(
      'Your organisation texts 09:00–18:00 recipient time, Monday to Friday; it is 18:30 on Friday in America/New_York. Texting is allowed again at 2026-06-15T13:00:00.000Z; schedule it with sendAt.',
    );
    expect(refusal?.details).toMatchObject({ by: 'org', rule: 'org-policy@America/New_York' });
  });

  it('judges a scheduled text at its sendAt by the org’s hours', () => {
    const saturday = composed('2026-06-12T15:00:00Z', { sendAt: new Date('2026-06-13T15:00:00Z') });
    expect(decideOutbound(saturday)).toMatchObject({
      allowed: false,
      nextAllowedAt: '2026-06-15T13:00:00.000Z',
    });
    const monday = composed('2026-06-12T15:00:00Z', { sendAt: new Date('2026-06-15T13:00:00Z') });
    expect(decideOutbound(monday).allowed).toBe(true);
  });

  it('names the law, not the org, when both refuse', () => {
    const [refusal] = decideOutbound(composed('2026-06-10T02:00:00Z')).refusals; // Tuesday 22:00
    expect(refusal?.message).toMatch(
      /^Quiet hours at the recipient’s location: US-federal allows 08:00–21:00/,
    );
    expect(refusal?.details).toMatchObject({ by: 'law' });
  });

  it('lets a customer who just wrote be answered outside business hours, never outside the law’s', () => {
    const replying = (now: string, quietHours: Record<string, string>) =>
      composed(now, {
        settings: settings(quietHours, 10),
        lastInboundAt: new Date(new Date(now).getTime() - 5 * 60_000),
      });
    const evening = decideOutbound(replying('2026-06-09T23:00:00Z', BUSINESS)); // Tuesday 19:00
    expect(evening).toMatchObject({
      allowed: true,
      quietHoursException: { policy: 'customer_reply_window', windowMinutes: 10 },
    });
    const saturday = decideOutbound(replying('2026-06-13T15:00:00Z', BUSINESS)); // Saturday 11:00
    expect(saturday.allowed).toBe(true);
    // 22:00: outside the law's hours. With hours of its own, the org's reply window stops at the law.
    const night = decideOutbound(replying('2026-06-10T02:00:00Z', BUSINESS));
    expect(night).toMatchObject({ allowed: false, quietHoursException: null });
    expect(night.refusals[0]?.details).toMatchObject({ by: 'law' });
    // Without hours of its own, the reply window keeps its meaning: it reaches into the law's quiet hours.
    expect(decideOutbound(replying('2026-06-10T02:00:00Z', {})).allowed).toBe(true);
    // A declared emergency is the law's: it alone does not narrow the reply window.
    expect(decideOutbound(replying('2026-06-10T02:00:00Z', { emergencyStates: 'LA' })).allowed).toBe(true);
  });

  it('applies a declared Louisiana emergency: refused, and not schedulable (it has no known end)', () => {
    const decision = decideOutbound(
      composed('2026-06-09T16:00:00Z', {
        recipient: { phone: '+15045550100' },
        settings: settings({ emergencyStates: 'LA' }),
      }),
    );
    expect(decision).toMatchObject({ allowed: false, schedulable: false, nextAllowedAt: null });
    expect(decision.refusals[0]?.message).toContain(
      'LA bans solicitation during a declared state of emergency',
    );
    const undeclared = composed('2026-06-09T16:00:00Z', { recipient: { phone: '+15045550100' } });
    expect(decideOutbound(undeclared).allowed).toBe(true);
  });
});

describe('the org’s quiet-hours policy at dequeue', () => {
  it('holds a text accepted at 17:59 that reaches the queue’s head at 18:01, until the next 09:00', () => {
    expect(decideOutbound(composed('2026-06-09T21:59:00Z')).allowed).toBe(true);
    const decision = decideOutbound(dequeued('2026-06-09T22:01:00Z'));
    expect(decision.refusals.map((r) => r.code)).toEqual(['QUIET_HOURS']);
    expect(decision.nextAllowedAt).toBe('2026-06-10T13:00:00.000Z');
  });

  it('lets an excused reply through the org’s hours but holds it once the law’s quiet hours begin', () => {
    expect(decideOutbound(dequeued('2026-06-09T23:00:00Z', { quietHoursExcused: true })).allowed).toBe(true);
    const night = decideOutbound(dequeued('2026-06-10T01:01:00Z', { quietHoursExcused: true })); // 21:01
    expect(night.refusals.map((r) => r.code)).toEqual(['QUIET_HOURS']);
    expect(night.nextAllowedAt).toBe('2026-06-10T13:00:00.000Z');
    // Without hours of its own, as before: excused of quiet hours altogether while the window lasts.
    const law = dequeued('2026-06-10T01:01:00Z', {
      quietHoursExcused: true,
      quietHours: settings({}).quietHours,
    });
    expect(decideOutbound(law).allowed).toBe(true);
  });

  it('never holds a system reply for the org’s hours', () => {
    expect(decideOutbound(dequeued('2026-06-13T15:00:00Z', { purpose: 'help_reply' })).allowed).toBe(true);
  });
});
