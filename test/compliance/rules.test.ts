import { describe, expect, it } from 'vitest';
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
