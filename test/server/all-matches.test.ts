import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PHI_RULES } from '../../server/compliance/phi-terms.ts';
import { allMatches } from '../../server/lib/all-matches.ts';

/** #20: the detectors ask a non-global twin before matchAll; what they see must not change. */

const PATTERNS: RegExp[] = [
  ...PHI_RULES.map((r) => r.pattern),
  /(?<![\d-])\d{9}(?![\d-])/g,
  /\d+(?:[ \-.\u00a0\u2007\u202f\u2009/()]{1,3}\d+)*/g,
  /(?<!\d[ -]?)(\d{3})( ?-? ?)(\d{2})( ?-? ?)(\d{4})(?![ -]?\d)/g,
  /x*/g, // matches the empty string everywhere
  /\bmrn\b/giu,
];

const words = ['lab results', 'cancer', 'MRN 12345', '10 mg', 'routing', ' ', '-', 'x', 'é', 'ﬁ'];
const texts = fc
  .array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 6 }), fc.integer().map(String)), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

const plain = (matches: Iterable<RegExpMatchArray>) => [...matches].map((m) => [m.index, [...m], m.groups]);

describe('allMatches', () => {
  it('yields exactly what matchAll yields, for the detectors’ patterns and any text', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PATTERNS), texts, (pattern, text) => {
        expect(plain(allMatches(text, pattern))).toEqual(plain(text.matchAll(pattern)));
        expect(pattern.lastIndex).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('starts where a pattern’s lastIndex says, as matchAll does', () => {
    const pattern = /\d/g;
    pattern.lastIndex = 2;
    expect(plain(allMatches('1a2b3', pattern))).toEqual([
      [2, ['2'], undefined],
      [4, ['3'], undefined],
    ]);
  });
});
