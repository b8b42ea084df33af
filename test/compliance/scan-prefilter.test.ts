import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findBankNumbers } from '../../server/compliance/bank-numbers.ts';
import { findCards } from '../../server/compliance/card-numbers.ts';
import { scanText } from '../../server/compliance/content-scanner.ts';
import bankLabels from '../../server/compliance/data/bank-number-labels.json' with { type: 'json' };
import { findPhi, PHI_RULES } from '../../server/compliance/phi-terms.ts';
import { normaliseForScan } from '../../server/compliance/scan-normalisation.ts';
import { mayHoldAnything, prefilter } from '../../server/compliance/scan-prefilter.ts';
import { findSsns } from '../../server/compliance/social-security-numbers.ts';

/**
 * #20: the scanner skips the finders a text's one-pass prefilter rules out. It may let through
 * texts with nothing in them, but must never rule out one a finder would find something in.
 */
function holdsToFinders(text: string) {
  const may = prefilter(text);
  const named = JSON.stringify(text);
  PHI_RULES.forEach((_, r) => {
    if (findPhi(text, 1 << r).length > 0)
      expect(may.phiRules & (1 << r), `PHI rule ${r} in ${named}`).not.toBe(0);
  });
  const numbers = [...findCards(text, text), ...findBankNumbers(text), ...findSsns(text)];
  if (numbers.length > 0) expect(may.numbers, `number in ${named}`).toBe(true);
  if (findCards(text, text).length + findSsns(text).length > 0)
    expect(may.cardOrSsn, `card or SSN in ${named}`).toBe(true);
  const nine = findBankNumbers(text, { nineDigits: true, bankLabel: false });
  if (nine.length > 0) expect(may.nineDigits, `routing number in ${named}`).toBe(true);
  const labelled = findBankNumbers(text, { nineDigits: false, bankLabel: true });
  if (labelled.length > 0) expect(may.bankLabel, `labelled bank number in ${named}`).toBe(true);
}

/** Every word the PHI rules spell out, so each term and each phrase's words come up. */
const ruleWords = [...new Set(PHI_RULES.flatMap((r) => r.pattern.source.match(/[a-z][a-z0-9']+/gi) ?? []))];
/** The bank labels and context words, and numbers of the shapes the number finders look for. */
const bankWords = [
  ...bankLabels.intros.account,
  ...bankLabels.intros.routing,
  ...bankLabels.introsNeedingBankContext.account,
  ...bankLabels.bankContext,
  '021000021',
  '121000358',
  '12345678',
  '219-09-9999',
  '4242 4242 4242 4242',
];
const glue = ['', ' ', '  ', ': ', '/', '-', '_', "'s ", ' test ', ' results ', ' came back ', ' 10 ', 'mg'];
const mixedCase = (s: string, flips: boolean[]) =>
  [...s].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch)).join('');
const flipsOf = fc.array(fc.boolean(), { minLength: 1, maxLength: 5 });
const texts = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.constantFrom(...ruleWords),
        fc.constantFrom(...bankWords),
        fc.constantFrom(...glue),
        fc.stringMatching(/^[0-9 /.-]{0,12}$/),
        fc.string({ maxLength: 4 }),
      ),
      { maxLength: 10 },
    ),
    flipsOf,
  )
  .map(([parts, flips]) => normaliseForScan(mixedCase(parts.join(''), flips)).text);

describe('scan prefilter', () => {
  it('never rules out a text any finder finds something in', () => {
    fc.assert(
      fc.property(texts, (text) => holdsToFinders(text)),
      { numRuns: 4000 },
    );
  });

  it('lets through every golden text with a finding', () => {
    const golden: Array<{ text: string }> = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/scanner-golden.json'), 'utf8'),
    );
    for (const { text } of golden) holdsToFinders(normaliseForScan(text).text);
  });

  it('says a text is its own normal form only when normalising gives it back unchanged, and of plain letters always then', () => {
    const written = fc.array(
      fc.constantFrom(
        ...[
          'a',
          'Z',
          '7',
          ' ',
          '-',
          '_',
          '\t',
          '\n',
          '.',
          '\u00a0',
          '\u200b',
          'é',
          'e\u0301',
          '\u0301',
          '\uff14',
        ],
        ...[
          '✋',
          '🛑',
          '\ufe0f',
          'ñ',
          'ﬁ',
          '\u1100',
          '\u1161',
          'Ⅻ',
          '①',
          '\u0664',
          '\u2013',
          'ж',
          '中',
          '\u2028',
        ],
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(written, (parts) => {
        const text = parts.join('');
        const normalised = normaliseForScan(text);
        const unchanged =
          normalised.text === text &&
          normalised.start.every((s, i) => s === i && normalised.end[i] === i + 1);
        // Beyond ASCII it may say no of a text that happens to stay as it is ('e' with an accent).
        const simple = [...text].every((ch) => ch.charCodeAt(0) < 128 || 'éñ✋ж中'.includes(ch));
        if (prefilter(text).ownForm) expect(unchanged).toBe(true);
        else if (simple) expect(unchanged).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('never calls a text empty that the pass or a finder finds something in', () => {
    const written = fc
      .tuple(
        fc.array(
          fc.oneof(
            fc.constantFrom(...ruleWords, ...bankWords, ...glue, '\t', '\r\n', 'é', '12', '1234', 'M', 'G'),
            fc.string({ maxLength: 3 }),
          ),
        ),
        flipsOf,
      )
      .map(([parts, flips]) => mixedCase(parts.join(''), flips));
    fc.assert(
      fc.property(written, (text) => {
        if (mayHoldAnything(text)) return;
        const may = prefilter(normaliseForScan(text).text);
        expect(may.numbers || may.phiRules !== 0, JSON.stringify(text)).toBe(false);
        expect(scanText(text)).toEqual({ findings: [], redacted: text });
      }),
      { numRuns: 4000 },
    );
  });

  it('rules out plain conversation', () => {
    for (const text of [
      'Stop',
      'Thanks, your order shipped!',
      'Yes\tplease',
      'Can you stop by at 3?',
      'Q3 revenue 4.2M',
    ])
      expect(mayHoldAnything(text), text).toBe(false);
    for (const text of [
      'Stop',
      'see you at 3 tomorrow',
      'Thanks, your order shipped!',
      'call me at 5pm, ok?',
    ])
      expect(prefilter(text)).toEqual({
        ownForm: true,
        numbers: false,
        cardOrSsn: false,
        uuid: false,
        nineDigits: false,
        bankLabel: false,
        phiRules: 0,
      });
  });
});
