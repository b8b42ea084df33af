import { describe, expect, it } from 'vitest';
import { deriveConsent } from '../../server/compliance/consent.ts';
import { evaluateOutbound } from '../../server/compliance/gate.ts';
import { matchKeyword } from '../../server/compliance/keywords.ts';
import { countSegments } from '../../server/compliance/segments.ts';

describe('segments', () => {
  it.each([
    ['', 'GSM-7', 0],
    ['a'.repeat(160), 'GSM-7', 1],
    ['a'.repeat(161), 'GSM-7', 2],
    ['a'.repeat(306), 'GSM-7', 2],
    ['a'.repeat(307), 'GSM-7', 3],
    ['{'.repeat(80), 'GSM-7', 1],
    ['{'.repeat(81), 'GSM-7', 2],
    ['é'.repeat(160), 'GSM-7', 1],
    ['ü👋', 'UCS-2', 1],
    ['“'.repeat(70), 'UCS-2', 1],
    ['“'.repeat(71), 'UCS-2', 2],
  ])('counts %j as %s in %i segment(s)', (text, encoding, segments) => {
    const info = countSegments(text);
    expect(info.encoding).toBe(encoding);
    expect(info.segments).toBe(segments);
  });

  it('names the characters that force UCS-2', () => {
    expect(countSegments('Thanks “Dana”').nonGsmCharacters).toEqual(['“', '”']);
  });

  it('flags text over the provider maximum', () => {
    expect(countSegments('a'.repeat(1600)).withinLimit).toBe(true);
    expect(countSegments('a'.repeat(1601)).withinLimit).toBe(false);
    expect(countSegments(`${'é'.repeat(737)}“`).withinLimit).toBe(false);
  });
});

describe('keywords', () => {
  it.each([
    'STOP',
    'stop',
    ' Stop! ',
    'STOP ALL',
    'unsubscribe',
    'Opt-Out',
    'opt out',
    'REVOKE',
    'Arrêt',
    'baja',
    'end.',
  ])('reads %j as an opt-out', (text) => expect(matchKeyword(text, false)).toBe('opt_out'));
  it.each(['START', 'unstop', 'Resume'])('reads %j as an opt-in', (text) =>
    expect(matchKeyword(text, true)).toBe('opt_in'),
  );
  it('reads YES as an opt-in only for an opted-out number', () => {
    expect(matchKeyword('yes', true)).toBe('opt_in');
    expect(matchKeyword('yes', false)).toBeNull();
  });
  it.each(['HELP', 'info?'])('reads %j as help', (text) => expect(matchKeyword(text, false)).toBe('help'));
  it.each(['stop by tomorrow?', 'Start date is June 1', 'ok'])('leaves %j to the conversation', (text) =>
    expect(matchKeyword(text, false)).toBeNull(),
  );
});

describe('outbound gate', () => {
  const now = new Date('2026-11-22T15:00:00Z');
  const optedOut = deriveConsent([
    { kind: 'opt_in', source: 'web_form', occurredAt: new Date('2026-11-01T00:00:00Z') },
    { kind: 'opt_out', source: 'keyword', occurredAt: new Date('2026-11-22T14:58:00Z') },
  ]);

  it('allows a conversation message only with a recorded opt-in', () => {
    expect(
      evaluateOutbound({
        purpose: 'conversation',
        consent: deriveConsent([]),
        confirmationsSinceOptOut: 0,
        now,
      }),
    ).toMatchObject({ allow: false, code: 'NO_CONSENT' });
    const optedIn = deriveConsent([{ kind: 'opt_in', source: 'api', occurredAt: now }]);
    expect(
      evaluateOutbound({ purpose: 'conversation', consent: optedIn, confirmationsSinceOptOut: 0, now }),
    ).toEqual({ allow: true });
  });

  it('refuses everything after an opt-out except one confirmation within five minutes', () => {
    expect(
      evaluateOutbound({ purpose: 'conversation', consent: optedOut, confirmationsSinceOptOut: 0, now }),
    ).toMatchObject({
      allow: false,
      code: 'OPTED_OUT',
    });
    expect(
      evaluateOutbound({
        purpose: 'opt_out_confirmation',
        consent: optedOut,
        confirmationsSinceOptOut: 0,
        now,
      }),
    ).toEqual({
      allow: true,
    });
    expect(
      evaluateOutbound({
        purpose: 'opt_out_confirmation',
        consent: optedOut,
        confirmationsSinceOptOut: 1,
        now,
      }),
    ).toMatchObject({ allow: false });
    const late = new Date('2026-11-22T15:04:00Z');
    expect(
      evaluateOutbound({
        purpose: 'opt_out_confirmation',
        consent: optedOut,
        confirmationsSinceOptOut: 0,
        now: late,
      }),
    ).toMatchObject({ allow: false });
    expect(
      evaluateOutbound({ purpose: 'help_reply', consent: optedOut, confirmationsSinceOptOut: 0, now }),
    ).toMatchObject({
      allow: false,
    });
  });
});
