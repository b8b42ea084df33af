import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseEveryCharacter, normaliseForScan } from '../../server/compliance/scan-normalisation.ts';

/**
 * #20: normalisation takes a shortcut for ASCII characters with no combining mark after them.
 * The text and both offset maps must be exactly those of the character-by-character path.
 */

/** ASCII (every code, controls included) mixed with what makes normalisation hard. */
const hard = [
  '\u0301', // combining acute: joins the letter before it
  '\u20e3', // combining keycap
  '\u034f', // combining grapheme joiner: a mark and invisible
  '\ufe0f',
  '\u200b',
  '\u00ad',
  '\u00a0',
  '\u2028',
  '\u2013',
  '\u2212',
  '\uff14',
  '\u0664',
  '\u0966',
  '𝟒',
  '①',
  'é',
  'ﬁ',
  '\u1100\u1161', // Hangul jamo that NFKC composes
];
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom(...hard) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 2 }) },
);
const texts = fc.array(unit, { maxLength: 40 }).map((parts) => parts.join(''));

describe('ASCII shortcut of the scan normalisation', () => {
  it('gives the same text and offsets as normalising every character', () => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(normaliseForScan(text)).toEqual(normaliseEveryCharacter(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives an all-ASCII text the same text and offsets as normalising every character', () => {
    const ascii = fc.string({
      unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)),
      maxLength: 60,
    });
    fc.assert(
      fc.property(ascii, (text) => {
        expect(normaliseForScan(text)).toEqual(normaliseEveryCharacter(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('treats each ASCII character alone, and before a mark, as the general path does', () => {
    for (let code = 0; code < 128; code++) {
      const ch = String.fromCharCode(code);
      for (const text of [ch, `${ch}${ch}`, `a${ch}\u0301b`, `1${ch}2`, ` ${ch} `]) {
        expect(normaliseForScan(text)).toEqual(normaliseEveryCharacter(text));
      }
    }
  });

  it('knows no combining mark below U+0300, which the shortcut relies on', () => {
    for (let code = 0; code < 0x300; code++) expect(/^\p{M}$/u.test(String.fromCharCode(code))).toBe(false);
  });
});
