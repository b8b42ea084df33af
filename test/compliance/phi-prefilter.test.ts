import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findPhi, PHI_RULES } from '../../server/compliance/phi-terms.ts';

/**
 * #20: findPhi first asks one alternation of every rule whether any matches. What it finds must
 * be what every rule's own search finds, business senses skipped as before.
 */

/** Each rule searched on its own, as findPhi did before the shared first search. */
function everyRule(text: string) {
  return PHI_RULES.flatMap((rule) =>
    [...text.matchAll(rule.pattern)]
      .map((m) => ({ start: m.index ?? 0, end: (m.index ?? 0) + m[0].length, detail: rule.detail }))
      .filter(({ start, end }) => !rule.unless?.test(text.slice(Math.max(0, start - 30), end + 30)))
      .map((f) => ({ kind: 'phi', ...f })),
  );
}

const phrases = [
  'your lab results are back',
  'blood pressure 120/80',
  'A1C of 7.2',
  'diagnosed with',
  'Cancer',
  'the Great Depression',
  'MRN: 4412',
  'Medicare card',
  'member id X12',
  '10 mg',
  'your dose',
  'mental health',
  'lithium battery',
  'A/B test results',
  'stage II cancer',
  'refill your water',
  'PSYCHIATRIST',
  'x-ray results',
  'see you at 3',
];
const texts = fc
  .array(
    fc.oneof(fc.constantFrom(...phrases), fc.string({ maxLength: 8 }), fc.constantFrom(' ', '. ', '\n')),
    {
      maxLength: 8,
    },
  )
  .map((parts) => parts.join(' '));

describe('PHI first search', () => {
  it('finds exactly what searching with every rule finds', () => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(findPhi(text)).toEqual(everyRule(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('still finds each kind of health term, and nothing in a text without one', () => {
    expect(findPhi('Your biopsy results came back').map((f) => f.detail)).toContain('test result');
    expect(findPhi('MRN 88213').map((f) => f.detail)).toEqual(['health identifier']);
    expect(findPhi('Your roof inspection is at 3:30 pm on Tuesday')).toEqual([]);
  });
});
