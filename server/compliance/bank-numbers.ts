/**
 * Bank routing and account numbers in a text: the ABA checksum, and account numbers introduced by
 * the labels of data/bank-number-labels.json. Pure.
 */

import bankLabels from './data/bank-number-labels.json' with { type: 'json' };
import type { Finding } from './scan-finding.ts';
import { matchesOf } from './scan-matches.ts';

/** ABA routing number: weights 3-7-1 summing to a multiple of 10, with a Federal Reserve prefix. */
export function isValidRoutingNumber(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const prefix = Number(digits.slice(0, 2));
  const prefixOk =
    prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80;
  if (!prefixOk) return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (digits.charCodeAt(i) - 48) * (weights[i] as number);
  return sum % 10 === 0;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A phrase from the data file: words may be run together or spaced out ("acct#", "a/c  no"). */
const phrasePattern = (phrase: string) => phrase.trim().split(/\s+/).map(escapeRegExp).join('\\s*');
const alternation = (phrases: readonly string[]) =>
  [...phrases]
    .sort((a, b) => b.length - a.length)
    .map(phrasePattern)
    .join('|');

const wordsPattern = (phrases: readonly string[]) => new RegExp(`\\b(${alternation(phrases)})\\b`, 'i');
const BANK_CONTEXT = wordsPattern(bankLabels.bankContext);
/** A weak intro ("account") must not be its own context. */
const WEAK_INTROS = new Set(bankLabels.introsNeedingBankContext.account);
const BANK_CONTEXT_BESIDES_WEAK = wordsPattern(bankLabels.bankContext.filter((w) => !WEAK_INTROS.has(w)));
const FILLER = `(?:\\s*(?:${bankLabels.filler
  .map((f) => (/^\p{L}+$/u.test(f) ? `${escapeRegExp(f)}\\b` : escapeRegExp(f)))
  .join('|')}))*\\s*`;
const { min: MIN_ACCOUNT_DIGITS, max: MAX_ACCOUNT_DIGITS } = bankLabels.digits;

/** Intro phrase, filler, then the digits (single spaces or dashes between them), all of them. */
function labelledNumber(phrases: readonly string[]): RegExp {
  return new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${alternation(phrases)})(?!\\p{L})${FILLER}(\\d(?: ?-? ?\\d){${MIN_ACCOUNT_DIGITS - 1},${MAX_ACCOUNT_DIGITS - 1}})(?! ?-? ?\\d)`,
    'giu',
  );
}

const LABELLED: ReadonlyArray<{ pattern: RegExp; detail: string; needsContext: boolean }> = [
  {
    pattern: labelledNumber(bankLabels.intros.routing),
    detail: 'ABA routing number (labelled)',
    needsContext: false,
  },
  { pattern: labelledNumber(bankLabels.intros.account), detail: 'bank account number', needsContext: false },
  {
    pattern: labelledNumber(bankLabels.introsNeedingBankContext.account),
    detail: 'bank account number',
    needsContext: true,
  },
];

/** Nine digits on their own: the shape of a routing number. */
const NINE_DIGITS = /(?<![\d-])\d{9}(?![\d-])/g;

/**
 * Routing numbers (checksum and context) and labelled account numbers in the normalised text.
 * `may` says which of the two the text can hold at all (scan-prefilter.ts); the other is not
 * searched for (#20).
 */
export function findBankNumbers(
  text: string,
  may: { nineDigits: boolean; bankLabel: boolean } = { nineDigits: true, bankLabel: true },
): Finding[] {
  const findings: Finding[] = [];
  // Context words are looked for only when a number needs them: most texts have none (#20).
  let hasContext: boolean | undefined;
  for (const m of may.nineDigits ? matchesOf(text, NINE_DIGITS) : []) {
    const start = m.index ?? 0;
    const end = start + 9;
    if (!isValidRoutingNumber(m[0])) continue;
    const near = text.slice(end, end + 30);
    const account = /^(\s*(?:\/|,|and|acct\.?|account|#|no\.?|number|:|-)*\s*)+(\d{4,17})(?!\d)/i.exec(near);
    const before = text.slice(Math.max(0, start - 30), start);
    const accountBefore = /(\d{4,17})(\s*(\/|,|and|acct|account|#|:|-)*\s*)+$/i.exec(before);
    hasContext ??= BANK_CONTEXT.test(text);
    if (!hasContext && account === null && accountBefore === null) continue;
    findings.push({ kind: 'bank', start, end, detail: 'ABA routing number' });
    if (account !== null) {
      const accStart = end + account[0].length - (account[2] as string).length;
      findings.push({
        kind: 'bank',
        start: accStart,
        end: end + account[0].length,
        detail: 'bank account number',
      });
    }
  }
  let hasContextBesidesWeak: boolean | undefined;
  for (const { pattern, detail, needsContext } of may.bankLabel ? LABELLED : []) {
    for (const m of matchesOf(text, pattern)) {
      // Without a context word, none of this pattern's matches counts.
      if (needsContext) hasContextBesidesWeak ??= BANK_CONTEXT_BESIDES_WEAK.test(text);
      if (needsContext && !hasContextBesidesWeak) break;
      const number = m[1] as string;
      const start = (m.index ?? 0) + m[0].length - number.length;
      findings.push({ kind: 'bank', start, end: start + number.length, detail });
    }
  }
  return findings;
}
