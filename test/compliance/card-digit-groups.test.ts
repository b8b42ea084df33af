import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupsOf } from '../../server/compliance/card-numbers.ts';

/** #20: the card detector splits digit runs with a loop; it must split them as `/\d+/g` does. */
describe('digit groups of a card-number run', () => {
  it('are the matches of /\\d+/g, placed at the run’s offset', () => {
    const units = fc.constantFrom('0', '4', '9', ' ', '-', '.', '/', '(', ')', '\u00a0', 'a', '٤', '𝟒');
    fc.assert(
      fc.property(fc.array(units, { maxLength: 30 }), fc.nat(1000), (parts, offset) => {
        const run = parts.join('');
        const expected = [...run.matchAll(/\d+/g)].map((m) => ({
          digits: m[0],
          start: offset + (m.index ?? 0),
          end: offset + (m.index ?? 0) + m[0].length,
        }));
        expect(groupsOf(run, offset)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
