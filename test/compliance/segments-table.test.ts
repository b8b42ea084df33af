import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSegments } from '../../server/compliance/segments.ts';

/**
 * #20: countSegments reads a per-unit table instead of two Sets of characters. Its septets, the
 * characters it reports and their order must be those of the character-by-character count.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';

function byCharacter(text: string) {
  let septets = 0;
  const nonGsm = new Set<string>();
  const twice = new Set<string>();
  for (const ch of text) {
    if (GSM_BASIC.includes(ch)) septets += 1;
    else if (GSM_EXTENDED.includes(ch)) {
      septets += 2;
      twice.add(ch);
    } else nonGsm.add(ch);
  }
  return { septets, nonGsm: [...nonGsm], twice: [...twice] };
}

const unit = fc.oneof(
  fc.constantFrom(...GSM_BASIC, ...GSM_EXTENDED, '🛑', '\ud83d', '\udc4d', 'ç', '中', '\u00a0', '😀'),
  fc.string({ unit: 'grapheme', maxLength: 2 }),
  fc.string({ unit: 'binary', maxLength: 2 }),
);

describe('segment count table', () => {
  it('counts as going character by character does', () => {
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        const expected = byCharacter(text);
        const info = countSegments(text);
        if (expected.nonGsm.length === 0) {
          expect(info.encoding).toBe('GSM-7');
          expect(info.units).toBe(expected.septets);
          expect(info.countedTwice).toEqual(expected.twice);
        } else {
          expect(info.encoding).toBe('UCS-2');
          expect(info.nonGsmCharacters).toEqual(expected.nonGsm);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
