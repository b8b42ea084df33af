import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnValid } from '../../server/compliance/card-numbers.ts';
import { type FindingKind, scanText } from '../../server/compliance/content-scanner.ts';
import bankLabels from '../../server/compliance/data/bank-number-labels.json' with { type: 'json' };
import { normaliseForScan } from '../../server/compliance/scan-normalisation.ts';

/**
 * #13 finding 4, as properties: a valid card, SSN or labelled bank number is found however it is
 * written (digits of other scripts chosen per digit, invisible characters slipped in, `_`, dashes,
 * odd spaces and line breaks between the digits), and its redaction leaves none of its digits in
 * any script, except the last four a card placeholder keeps on purpose (PCI DSS 3.4).
 */

const RUNS = 200;

/** Where each script's zero sits; every Unicode decimal digit set runs 0–9 from there. */
const DIGIT_ZEROS = [0x30, 0xff10, 0x0660, 0x06f0, 0x0966, 0x09e6, 0x0e50, 0x1d7ce, 0x1d7f6];
const INVISIBLES = [
  '\u200b', // zero-width space
  '\u200c', // zero-width non-joiner
  '\u200d', // zero-width joiner
  '\u2060', // word joiner
  '\ufeff', // BOM
  '\u00ad', // soft hyphen
  '\u200e', // left-to-right mark
  '\u200f', // right-to-left mark
  '\u202a', // left-to-right embedding
  '\u202c', // pop directional formatting
  '\ufe0f', // variation selector 16
];
/** What people (or someone dodging a filter) put between digit groups. */
const SEPARATORS = ['', ' ', '-', '_', '\n', '\r\n', '\u00a0', '\u2009', '\u2028', '\u2013', ' - '];

interface Written {
  text: string;
  digits: string;
}

/** One digit, in a random script, maybe followed by an invisible character. */
const writtenDigit = (digit: string) =>
  fc
    .tuple(fc.constantFrom(...DIGIT_ZEROS), fc.option(fc.constantFrom(...INVISIBLES), { freq: 3 }))
    .map(([zero, invisible]) => String.fromCodePoint(zero + Number(digit)) + (invisible ?? ''));

/**
 * The digits written in disguise. `gaps(i)` gives the separators allowed after digit i; an
 * invisible character may precede the separator as well.
 */
function disguise(digits: string, gaps: (i: number) => fc.Arbitrary<string>): fc.Arbitrary<string> {
  const parts = [...digits].map((d, i) =>
    i === digits.length - 1
      ? writtenDigit(d)
      : fc.tuple(writtenDigit(d), gaps(i)).map(([written, gap]) => written + gap),
  );
  return fc.tuple(...parts).map((p) => p.join(''));
}

/** Mostly no separator inside a group, sometimes anything at all. */
const anyGap = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom(...SEPARATORS) },
  );

/** Appends the Luhn check digit. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable: one check digit always fits');
}

const CARD_SHAPES: ReadonlyArray<{ prefixes: string[]; length: number }> = [
  { prefixes: ['4'], length: 16 },
  { prefixes: ['4'], length: 13 },
  { prefixes: ['51', '52', '53', '54', '55', '2221', '2500', '2720'], length: 16 },
  { prefixes: ['34', '37'], length: 15 },
  { prefixes: ['6011', '65'], length: 16 },
];

const cardNumber = fc
  .constantFrom(...CARD_SHAPES)
  .chain(({ prefixes, length }) =>
    fc.tuple(
      fc.constantFrom(...prefixes),
      fc.constant(length),
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 20, maxLength: 20 }),
    ),
  )
  .map(([prefix, length, fill]) =>
    withCheckDigit(prefix + fill.slice(0, length - prefix.length - 1).join('')),
  );

/** Area 001–899 except 666, group 01–99, serial 0001–9999: numbers the SSA could issue. */
const ssnNumber = fc
  .tuple(
    fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666),
    fc.integer({ min: 1, max: 99 }),
    fc.integer({ min: 1, max: 9999 }),
  )
  .map(
    ([a, g, s]) => `${String(a).padStart(3, '0')}${String(g).padStart(2, '0')}${String(s).padStart(4, '0')}`,
  );

const accountNumber = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 17 })
  .map((d) => d.join(''));

const AROUND_AFTER = ['', ' thanks', '.', ', ok?', '\nsee you'];

const cardText: fc.Arbitrary<Written> = cardNumber.chain((digits) =>
  fc
    .tuple(
      fc.constantFrom('', 'my card is ', 'Card: ', 'here you go\n', 'visa '),
      disguise(digits, anyGap),
      fc.constantFrom(...AROUND_AFTER),
    )
    .map(([before, number, after]) => ({ text: before + number + after, digits })),
);

const SSN_CONTEXTS = ['SSN ', 'my SSN is ', 'social security number: ', 'ss# ', 'soc sec no '];

const ssnText: fc.Arbitrary<Written> = ssnNumber.chain((digits) =>
  fc
    .tuple(fc.constantFrom(...SEPARATORS), fc.constantFrom(...SEPARATORS))
    .chain(([first, second]) =>
      fc.tuple(
        // Nine digits in one piece (or with one gap, like ZIP+4) are an SSN only next to a context word.
        first === '' || second === ''
          ? fc.constantFrom(...SSN_CONTEXTS)
          : fc.constantFrom(...SSN_CONTEXTS, '', 'it is ', 'number '),
        disguise(digits, (i) => fc.constant(i === 2 ? first : i === 4 ? second : '')),
        fc.constantFrom(...AROUND_AFTER),
      ),
    )
    .map(([before, number, after]) => ({ text: before + number + after, digits })),
);

const INTROS = [...bankLabels.intros.account, ...bankLabels.intros.routing];
const FILLERS = ['', ' ', ': ', ' # ', ' is ', ' no. ', ' = ', ' - ', '\n'];

const bankText: fc.Arbitrary<Written> = accountNumber.chain((digits) =>
  fc
    .tuple(
      fc.constantFrom('', 'my ', 'the '),
      fc.constantFrom(...INTROS),
      fc.boolean(),
      fc.constantFrom(...FILLERS),
      disguise(digits, anyGap),
      fc.constantFrom(...AROUND_AFTER),
    )
    .map(([lead, intro, upper, filler, number, after]) => ({
      text: `${lead}${upper ? intro.toUpperCase() : intro}${filler === '' ? ' ' : filler}${number}${after}`,
      digits,
    })),
);

const sensitiveKinds = (text: string) =>
  new Set(
    scanText(text)
      .findings.filter((f) => f.kind !== 'phi')
      .map((f) => f.kind),
  );

/**
 * The redacted text, read as the scanner reads it, has no digit outside its placeholders, and a
 * placeholder shows at most the last four digits of the number.
 */
function assertNothingLeft(written: Written): void {
  const { redacted } = scanText(written.text);
  const plain = normaliseForScan(redacted).text;
  const placeholders = plain.match(/\[[^\]]*\]/g) ?? [];
  expect(placeholders.length, redacted).toBeGreaterThan(0);
  expect(plain.replace(/\[[^\]]*\]/g, ''), redacted).not.toMatch(/\d/);
  for (const p of placeholders) expect(['', written.digits.slice(-4)], p).toContain(p.replace(/\D/g, ''));
}

describe('the scanner sees through disguised numbers', () => {
  it('finds and fully redacts every valid card number, whatever digits and separators it is written with', () => {
    fc.assert(
      fc.property(cardText, (written) => {
        expect(sensitiveKinds(written.text), JSON.stringify(written.text)).toContain('card');
        assertNothingLeft(written);
      }),
      { numRuns: RUNS },
    );
  });

  it('finds and fully redacts every valid SSN, whatever digits and separators it is written with', () => {
    fc.assert(
      fc.property(ssnText, (written) => {
        expect(sensitiveKinds(written.text), JSON.stringify(written.text)).toContain('ssn');
        assertNothingLeft(written);
      }),
      { numRuns: RUNS },
    );
  });

  it('finds and fully redacts every bank number introduced by a bank label, however it is written', () => {
    fc.assert(
      fc.property(bankText, (written) => {
        // A labelled number that is also a valid card number is reported (and redacted) as a card.
        const kinds = sensitiveKinds(written.text);
        expect(
          [...kinds].some((k: FindingKind) => k === 'bank' || k === 'card'),
          JSON.stringify(written.text),
        ).toBe(true);
        assertNothingLeft(written);
      }),
      { numRuns: RUNS },
    );
  });
});
