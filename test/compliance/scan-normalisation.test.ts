import { describe, expect, it } from 'vitest';
import { normaliseForScan, originalSpan } from '../../server/compliance/scan-normalisation.ts';

describe('normalisation for the content scanner', () => {
  it.each([
    ['full-width digits and letters', 'ＳＳＮ ４５５', 'SSN 455'],
    ['Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai digits', '٤۵६৭๘', '45678'],
    ['mathematical and circled digits', '𝟒𝟓 ①', '45 1'],
    [
      'zero-width, BOM, soft hyphen and bidi marks',
      '4\u200b1\u200c1\u200d1\ufeff1\u00ad1\u200e1\u202a1',
      '41111111',
    ],
    ['keycaps and variation selectors', '4\ufe0f\u20e31\ufe0f\u20e3', '41'],
    [
      'underscores, line breaks and odd spaces, collapsed to one space',
      '4111_1111\r\n\r\n1111\u20281111\u00a0\t1',
      '4111 1111 1111 1111 1',
    ],
    ['every dash as a hyphen', '4111\u20131111\u20141111\u22121111', '4111-1111-1111-1111'],
  ])('folds %s', (_, input, expected) => expect(normaliseForScan(input).text).toBe(expected));

  it('keeps accented words whole', () => {
    expect(normaliseForScan('re\u0301sume\u0301 café').text).toBe('résumé café');
  });

  it('maps every normalised span back to the original text, invisible characters and line breaks included', () => {
    const original = 'pay ٤١\u200b١١\r\n1111 𝟏𝟏𝟏𝟏 now';
    const normalised = normaliseForScan(original);
    expect(normalised.text).toBe('pay 4111 1111 1111 now');
    const from = normalised.text.indexOf('4');
    const to = normalised.text.lastIndexOf('1') + 1;
    const span = originalSpan(normalised, from, to);
    expect(original.slice(span.start, span.end)).toBe('٤١\u200b١١\r\n1111 𝟏𝟏𝟏𝟏');
  });
});
