/**
 * What a normalised text can hold at all, from one pass over its characters (#20). Most texts a
 * relay sees have no number and no health word; they need none of the finders' regexes, and most
 * of the others need only some. The answers are conservative: each says "cannot" only where the
 * finder's patterns cannot match (test/compliance/scan-prefilter.test.ts holds them to it).
 */
import bankLabels from './data/bank-number-labels.json' with { type: 'json' };
import { PHI_RULES } from './phi-terms.ts';

export interface TextPrefilter {
  /** Cards, SSNs or labelled bank numbers may be there: the text has the 6 digits the least needs. */
  numbers: boolean;
  /** A routing number may be there: nine digits stand together (and nothing longer does there). */
  nineDigits: boolean;
  /** A labelled bank number may be there: a word begins like one of the labels' first words. */
  bankLabel: boolean;
  /** The PHI rules that may match, as findPhi's mask (bit r for PHI_RULES[r]); 0 for none. */
  phiRules: number;
}

/** The fewest digits any card, SSN or bank-number pattern matches (a labelled account number's 6). */
const FEWEST_NUMBER_DIGITS = Math.min(6, bankLabels.digits.min);

/** ASCII letters lowered, every other unit as it is. */
const lower = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);
/** Two ASCII units as one table index. */
const pairKey = (a: number, b: number): number => (a << 7) | b;

interface WordStart {
  word: string;
  rules: number;
}

/**
 * The PHI rules' word starts by their first two characters (by `pairKey`), so a word of the text
 * meets a few only; a table, not a Map, as this is asked at every word of every text.
 */
const PHI_STARTS: Array<WordStart[] | undefined> = new Array(1 << 14).fill(undefined);
PHI_RULES.forEach((rule, r) => {
  for (const word of rule.starts.trim().split(/\s+/)) {
    const key = pairKey(word.charCodeAt(0), word.charCodeAt(1));
    const known = PHI_STARTS[key] ?? [];
    const same = known.find((s) => s.word === word);
    if (same) same.rules |= 1 << r;
    else PHI_STARTS[key] = [...known, { word, rules: 1 << r }];
  }
});
const DOSE_RULES = PHI_RULES.reduce((mask, rule, r) => (rule.dose ? mask | (1 << r) : mask), 0);

/** First two characters of every bank label's first word ("checking", "a/c", "rtn", …), by `pairKey`. */
const BANK_PAIRS = new Uint8Array(1 << 14);
for (const label of [
  ...bankLabels.intros.account,
  ...bankLabels.intros.routing,
  ...bankLabels.introsNeedingBankContext.account,
])
  BANK_PAIRS[pairKey(label.charCodeAt(0), label.charCodeAt(1))] = 1;

/** The rules of the PHI word starts `text` begins at `at` with, in any case. */
function phiRulesAt(text: string, at: number): number {
  if (at + 1 >= text.length) return 0;
  const b = lower(text.charCodeAt(at + 1));
  if (b >= 128) return 0;
  const starts = PHI_STARTS[pairKey(lower(text.charCodeAt(at)), b)];
  if (starts === undefined) return 0;
  let rules = 0;
  for (let s = 0; s < starts.length; s++) {
    const { word, rules: of } = starts[s] as WordStart;
    if (at + word.length > text.length) continue;
    let k = 2;
    while (k < word.length && lower(text.charCodeAt(at + k)) === word.charCodeAt(k)) k += 1;
    if (k === word.length) rules |= of;
  }
  return rules;
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** What the normalised `text` may hold; see the file's comment. */
export function prefilter(text: string): TextPrefilter {
  let digits = 0;
  let run = 0;
  let nineDigits = false;
  let mg = false;
  let bankLabel = false;
  let phiRules = 0;
  // Whether the unit before is a word character as `\b` sees it, and a letter or digit as the
  // bank labels' (?<![\p{L}\p{N}]) does (beyond ASCII that needs Unicode: the answer is "may").
  let afterWord = false;
  let afterLetterOrDigit = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    const digit = isDigit(code);
    const letter = isLetter(code);
    if (digit) {
      digits += 1;
      run += 1;
    } else {
      if (run === 9) nineDigits = true;
      run = 0;
    }
    if (code >= 128) bankLabel = true;
    else if (letter && !afterLetterOrDigit && !bankLabel && i + 1 < n) {
      const next = lower(text.charCodeAt(i + 1));
      // Beyond ASCII the next unit sets bankLabel itself.
      bankLabel = next < 128 && BANK_PAIRS[pairKey(lower(code), next)] === 1;
    }
    const word = digit || letter || code === 95;
    if (word && !afterWord) phiRules |= phiRulesAt(text, i);
    if ((code === 103 || code === 71) && i > 0 && lower(text.charCodeAt(i - 1)) === 109) mg = true;
    afterWord = word;
    afterLetterOrDigit = digit || letter;
  }
  if (run === 9) nineDigits = true;
  if (mg && digits > 0) phiRules |= DOSE_RULES;
  const numbers = digits >= FEWEST_NUMBER_DIGITS;
  return { numbers, nineDigits: numbers && nineDigits, bankLabel: numbers && bankLabel, phiRules };
}
