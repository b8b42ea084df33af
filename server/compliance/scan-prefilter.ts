/**
 * What a normalised text can hold at all (#20). Most texts a relay sees have no number and no
 * health word; they need none of the finders' regexes, and most of the others need only some.
 * `mayHoldAnything` settles most texts with one native search; `prefilter` is one pass over the
 * characters of the rest. The answers are conservative: each says "cannot" only where the finder's
 * patterns cannot match. test/compliance/scan-prefilter.test.ts holds them to it, with texts built
 * from every word the PHI rules spell out, so a term added to a rule without its word start fails.
 */
import bankLabels from './data/bank-number-labels.json' with { type: 'json' };
import { PHI_RULES } from './phi-terms.ts';
import {
  OWN_NOT as NOT,
  OWN_FORM as OWN_FORM_TABLE,
  OWN_SPACE as SPACE,
  standsAsIs as standsAsIsImported,
} from './scan-normalisation.ts';

export interface TextPrefilter {
  /** Cards, SSNs or labelled bank numbers may be there: the text has the 6 digits the least needs. */
  numbers: boolean;
  /** A card (8 digits in one run at the least) or an SSN (9) may be there. */
  cardOrSsn: boolean;
  /** A UUID may be there (it has four dashes), to be blanked out before numbers are looked for. */
  uuid: boolean;
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
const LOWER = Uint8Array.from({ length: 128 }, (_, code) => lower(code));
/** Two ASCII units as one table index. */
const pairKey = (a: number, b: number): number => (a << 7) | b;

interface WordStart {
  word: string;
  rules: number;
}

/** Bits of PAIRS: some PHI word start, or some bank label, begins with the pair. */
const PHI_PAIR = 1;
const BANK_PAIR = 2;
/** Per pair of lowered ASCII units (by `pairKey`): which kinds of word begin with it. */
const PAIRS = new Uint8Array(1 << 14);
/** The PHI rules' word starts by their first two characters (by `pairKey`). */
const PHI_STARTS: Array<WordStart[] | undefined> = new Array(1 << 14).fill(undefined);
PHI_RULES.forEach((rule, r) => {
  for (const word of rule.starts.trim().split(/\s+/)) {
    const key = pairKey(word.charCodeAt(0), word.charCodeAt(1));
    const known = PHI_STARTS[key] ?? [];
    const same = known.find((s) => s.word === word);
    if (same) same.rules |= 1 << r;
    else PHI_STARTS[key] = [...known, { word, rules: 1 << r }];
    PAIRS[key] = (PAIRS[key] as number) | PHI_PAIR;
  }
});
const DOSE_RULES = PHI_RULES.reduce((mask, rule, r) => (rule.dose ? mask | (1 << r) : mask), 0);
for (const label of [
  ...bankLabels.intros.account,
  ...bankLabels.intros.routing,
  ...bankLabels.introsNeedingBankContext.account,
]) {
  const key = pairKey(label.charCodeAt(0), label.charCodeAt(1));
  PAIRS[key] = (PAIRS[key] as number) | BANK_PAIR;
}

/** The rules of the PHI word starts `text` begins at `at` with (in any case), whose first two make `key`. */
function phiRulesAt(text: string, at: number, key: number): number {
  let rules = 0;
  const starts = PHI_STARTS[key] as WordStart[];
  for (let s = 0; s < starts.length; s++) {
    const { word, rules: of } = starts[s] as WordStart;
    if (at + word.length > text.length) continue;
    let k = 2;
    while (k < word.length && lower(text.charCodeAt(at + k)) === word.charCodeAt(k)) k += 1;
    if (k === word.length) rules |= of;
  }
  return rules;
}

const escapeRegExp = (s: string) => s.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');

/**
 * A text this does not match holds nothing for any finder: it is printable ASCII, tabs and line
 * breaks (which normalise to spaces: no word start moves), with fewer than six digits (what the
 * least number needs), no "mg" (a dose needs one digit and it), no `_` (which does normalise to a
 * space, and so could make a word start) and no PHI word start. Asked first, as one native
 * search is several times cheaper than the pass below, and most texts stop there (#20).
 */
const MAY_HOLD_ANYTHING = new RegExp(
  `[^\\t\\n\\r -~]|_|mg|\\d(?:\\D*\\d){${FEWEST_NUMBER_DIGITS - 1}}|\\b(?:${[
    ...new Set(PHI_RULES.flatMap((rule) => rule.starts.trim().split(/\s+/))),
  ]
    .map(escapeRegExp)
    .join('|')})`,
  'i',
);

/** Whether the text may hold anything for a finder; when not, `prefilter` says nothing is there. */
export function mayHoldAnything(text: string): boolean {
  return MAY_HOLD_ANYTHING.test(text);
}

/**
 * The normalisation's own-form table and its values, held here: an imported binding may be read
 * through a getter (as tsx compiles modules), and this pass reads them at every character.
 */
const OWN_FORM = OWN_FORM_TABLE;
const OWN_NOT = NOT;
const OWN_SPACE = SPACE;
const standsAsIs = standsAsIsImported;

/** Per ASCII code, what the pass needs to know of it: bits of the classes below. */
const DIGIT = 1;
const LETTER = 2;
/** A word character as the PHI rules' `\b` sees it (no `u` flag: ASCII letters, digits, `_`). */
const WORD = 4;
const CLASSES = Uint8Array.from({ length: 128 }, (_, code) => {
  if (code >= 48 && code <= 57) return DIGIT | WORD;
  if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122)) return LETTER | WORD;
  return code === 95 ? WORD : 0;
});

/**
 * What the normalised `text` may hold; see the file's comment. `ownForm` says whether `text` is
 * its own normal form (normaliseForScan would give it back unchanged, offsets and all): only then
 * does the rest describe the normalised text; otherwise ask again with the normalised text.
 */
export function prefilter(text: string): TextPrefilter & { ownForm: boolean } {
  let ownForm = true;
  let digits = 0;
  let dashes = 0;
  let run = 0;
  let nineDigits = false;
  let mg = false;
  let bankLabel = false;
  let phiRules = 0;
  // Whether the unit before is a word character as `\b` sees it, a letter or digit as the bank
  // labels' (?<![\p{L}\p{N}]) does (beyond ASCII that needs Unicode: the answer is "may"), a space.
  let afterWord = false;
  let afterLetterOrDigit = false;
  let afterSpace = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code === 45) dashes += 1;
    if (code >= 128) {
      // Such a unit stays itself (when no mark follows: a mark itself does not stand) and is no
      // word character to `\b`; to the bank labels' Unicode patterns it might be a letter.
      if (!standsAsIs(code)) ownForm = false;
      bankLabel = true;
      if (run === 9) nineDigits = true;
      run = 0;
      afterWord = afterLetterOrDigit = afterSpace = false;
      continue;
    }
    const own = OWN_FORM[code] as number;
    if (own === OWN_NOT || (own === OWN_SPACE && afterSpace)) ownForm = false;
    afterSpace = own === OWN_SPACE;
    const cls = CLASSES[code] as number;
    if ((cls & DIGIT) !== 0) {
      digits += 1;
      run += 1;
    } else {
      if (run === 9) nineDigits = true;
      run = 0;
      // Every PHI word start and bank label begins with a letter, then another ASCII unit.
      if ((cls & LETTER) !== 0 && !afterLetterOrDigit && i + 1 < n) {
        const next = text.charCodeAt(i + 1);
        const key = next < 128 ? pairKey(LOWER[code] as number, LOWER[next] as number) : 0;
        const pair = PAIRS[key] as number;
        if ((pair & BANK_PAIR) !== 0) bankLabel = true;
        if ((pair & PHI_PAIR) !== 0 && !afterWord) phiRules |= phiRulesAt(text, i, key);
      }
      if ((code | 32) === 103 && i > 0 && (text.charCodeAt(i - 1) | 32) === 109) mg = true;
    }
    afterWord = (cls & WORD) !== 0;
    afterLetterOrDigit = (cls & (DIGIT | LETTER)) !== 0;
  }
  if (run === 9) nineDigits = true;
  if (mg && digits > 0) phiRules |= DOSE_RULES;
  const numbers = digits >= FEWEST_NUMBER_DIGITS;
  return {
    ownForm,
    numbers,
    cardOrSsn: digits >= 8,
    uuid: dashes >= 4,
    nineDigits: numbers && nineDigits,
    bankLabel: numbers && bankLabel,
    phiRules,
  };
}
