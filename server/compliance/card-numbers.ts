/**
 * Payment card numbers in a text (PCI DSS 4.2.2: no PAN over SMS): brand tables and the Luhn
 * check, the digit runs people type cards in, and the expiry dates and security codes that
 * follow a card. Pure; the content scanner calls `findCards` on normalised text.
 */

import type { Finding } from './scan-finding.ts';
import { matchesOf } from './scan-matches.ts';

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  return /^\d+$/.test(digits) && luhnOfDigits(digits);
}

/** The Luhn check of a string known to be digits only (the card finder's candidates, #20). */
function luhnOfDigits(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

interface BrandRule {
  brand: string;
  /** Inclusive ranges over the leading digits (compared as numbers of the same length). */
  prefixes: Array<[string, string]>;
  lengths: readonly number[];
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** IIN/BIN prefixes and lengths per brand (research section 5, PCI/issuer tables). */
export const CARD_BRANDS: readonly BrandRule[] = [
  { brand: 'Visa', prefixes: [['4', '4']], lengths: [13, 16, 19] },
  {
    brand: 'Mastercard',
    prefixes: [
      ['51', '55'],
      ['2221', '2720'],
    ],
    lengths: [16],
  },
  {
    brand: 'Amex',
    prefixes: [
      ['34', '34'],
      ['37', '37'],
    ],
    lengths: [15],
  },
  {
    brand: 'Discover',
    prefixes: [
      ['6011', '6011'],
      ['644', '649'],
      ['65', '65'],
      ['622126', '622925'],
    ],
    lengths: range(16, 19),
  },
  {
    brand: 'Diners Club',
    prefixes: [
      ['300', '305'],
      ['309', '309'],
      ['36', '36'],
      ['38', '39'],
    ],
    lengths: range(14, 19),
  },
  { brand: 'JCB', prefixes: [['3528', '3589']], lengths: range(16, 19) },
  { brand: 'UnionPay', prefixes: [['62', '62']], lengths: range(16, 19) },
  {
    brand: 'Maestro',
    prefixes: [
      ['50', '50'],
      ['56', '69'],
    ],
    lengths: range(12, 19),
  },
];

/** The brand table with its prefixes as numbers, so a candidate's brand is found without slicing it (#20). */
const BRAND_TABLE = CARD_BRANDS.map((rule) => ({
  brand: rule.brand,
  lengths: rule.lengths,
  prefixes: rule.prefixes.map(([from, to]) => ({ size: from.length, from: Number(from), to: Number(to) })),
}));

type Prefix = (typeof BRAND_TABLE)[number]['prefixes'][number];

/** The first `size` characters of `digits` as a number, NaN at one that is not a digit (as `Number` gives). */
function leading(digits: string, size: number): number {
  let n = 0;
  for (let i = 0; i < size; i++) {
    const d = digits.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

function prefixMatches(digits: string, { size, from, to }: Prefix): boolean {
  if (digits.length < size) return false;
  const head = leading(digits, size);
  return head >= from && head <= to;
}

/** The brand whose prefix and length fit, or null (the first match in table order wins). */
export function cardBrand(digits: string): string | null {
  for (const rule of BRAND_TABLE) {
    if (!rule.lengths.includes(digits.length)) continue;
    if (rule.prefixes.some((p) => prefixMatches(digits, p))) return rule.brand;
  }
  return null;
}

/** Whether the digits start like a card of some brand, whatever their length. */
function hasCardPrefix(digits: string): boolean {
  return BRAND_TABLE.some((rule) => rule.prefixes.some((p) => prefixMatches(digits, p)));
}

interface Group {
  digits: string;
  start: number;
  end: number;
}

/** Runs of digit groups joined by the separators people type inside card numbers. */
const DIGIT_RUN = /\d+(?:[ \-.\u00a0\u2007\u202f\u2009/()]{1,3}\d+)*/g;
/** Letters that may touch a card number directly ("CC4242…", "…4242exp"). */
const CARD_LABELS = /^(cc|card|cards|visa|mc|amex|pan|no|num|nr|number|exp|expiry|cvv|cvc|x)$/i;
const CARD_CONTEXT =
  /\b(card|cc|credit|debit|visa|master ?card|mc|amex|discover|diners|jcb|unionpay|maestro|pan|cvv|cvc|exp)\b/i;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * The runs of ASCII digits in `run` (as `/\d+/g` finds them), placed at `offset`. A loop, not
 * matchAll, which copies its regex on every call: this runs for every number in every text (#20).
 */
export function groupsOf(run: string, offset: number): Group[] {
  const groups: Group[] = [];
  let i = 0;
  while (i < run.length) {
    if (!isDigit(run.charCodeAt(i))) {
      i += 1;
      continue;
    }
    const from = i;
    while (i < run.length && isDigit(run.charCodeAt(i))) i += 1;
    groups.push({ digits: run.slice(from, i), start: offset + from, end: offset + i });
  }
  return groups;
}

/** Whether a unit may begin or end a `\p{L}` run: an ASCII letter, or any unit beyond ASCII. */
const mayBeLetter = (code: number): boolean =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code >= 128;

/**
 * Whether the run is glued to letters or hyphenated into an identifier (licence keys, VINs, SKUs).
 * Each regex is asked only when the character beside the run could let it match (#20).
 */
function partOfIdentifier(text: string, start: number, end: number): boolean {
  const left = start > 0 ? text.charCodeAt(start - 1) : -1;
  const right = end < text.length ? text.charCodeAt(end) : -1;
  const before = text.slice(Math.max(0, start - 12), start);
  const after = text.slice(end, end + 12);
  const lettersBefore = mayBeLetter(left) ? /([\p{L}]+)$/u.exec(before) : null;
  if (lettersBefore !== null && !CARD_LABELS.test(lettersBefore[1] as string)) return true;
  const lettersAfter = mayBeLetter(right) ? /^([\p{L}]+)/u.exec(after) : null;
  if (lettersAfter !== null && !CARD_LABELS.test(lettersAfter[1] as string)) return true;
  const joinerBefore = left === 45 || left === 95 || left === 47 || left === 46; // - _ / .
  if (joinerBefore && /[\p{L}\p{N}][-_/.]$/u.test(before) && !/[\s:#]$/.test(before.slice(0, -1)))
    return true;
  if ((right === 45 || right === 95) && /^[-_][\p{L}\p{N}]/u.test(after)) return true;
  return false;
}

/** Card numbers, their trailing expiry and security code, and PAN fragments in the normalised text. */
export function findCards(text: string, scanned: string): Finding[] {
  const findings: Finding[] = [];
  for (const m of matchesOf(scanned, DIGIT_RUN)) {
    const runStart = m.index ?? 0;
    const runEnd = runStart + m[0].length;
    const groups = groupsOf(m[0], runStart);
    const total = groups.reduce((n, g) => n + g.digits.length, 0);
    // A card needs 12 digits and a fragment 4-digit groups: a shorter run need not be looked at (#20).
    const fourDigitGroups = groups.every((g) => g.digits.length === 4);
    if (total < 8 || (total < 12 && !(fourDigitGroups && groups.length >= 2))) continue;
    if (partOfIdentifier(scanned, runStart, runEnd)) continue;
    let best: { i: number; j: number; digits: string; brand: string } | null = null;
    for (let i = 0; i < groups.length && best === null; i++) {
      let digits = '';
      for (let j = i; j < groups.length; j++) {
        digits += (groups[j] as Group).digits;
        if (digits.length > 19) break;
        // The rest of the run may only be an expiry and a security code (≤ 7 digits).
        if (digits.length < 12 || total - digits.length > 7) continue;
        const brand = cardBrand(digits);
        if (brand !== null && luhnOfDigits(digits)) best = { i, j, digits, brand };
      }
    }
    if (best !== null) {
      const first = groups[best.i] as Group;
      const last = groups[best.j] as Group;
      findings.push({
        kind: 'card',
        start: first.start,
        end: last.end,
        detail: `${best.brand} card number ending ${best.digits.slice(-4)}`,
      });
      findings.push(...cardExtras(text, last.end, groups.slice(best.j + 1)));
      continue;
    }
    // Half of a PAN split over two messages: 4-digit groups with a brand prefix.
    if (
      fourDigitGroups &&
      (groups.length === 3 || (groups.length === 2 && CARD_CONTEXT.test(text))) &&
      hasCardPrefix((groups[0] as Group).digits) &&
      !/[/.:]/.test(m[0])
    ) {
      findings.push({
        kind: 'card',
        start: runStart,
        end: runEnd,
        detail: 'possible card-number fragment (a PAN split over messages)',
      });
    }
  }
  return findings;
}

/** Expiry dates and security codes right after a card number (SAD must never be stored). */
function cardExtras(text: string, cardEnd: number, trailing: Group[]): Finding[] {
  const extras: Finding[] = [];
  const window = text.slice(cardEnd, cardEnd + 60);
  const expiry =
    /^[^\d]{0,24}?\b(?:exp(?:iry|ires|iration)?(?: date)?|valid thru|good thru)?\W{0,3}((?:0?[1-9]|1[0-2])\s?[/-]\s?(?:20)?\d{2}|(?:0[1-9]|1[0-2])(?:20)?\d{2}(?=\D|$))/i.exec(
      window,
    );
  let consumed = 0;
  if (expiry !== null && expiry.index === 0) {
    const value = expiry[1] as string;
    const labelled = /exp|valid|good/i.test(expiry[0]) || /[/-]/.test(value);
    if (labelled) {
      const start = cardEnd + expiry[0].length - value.length;
      extras.push({ kind: 'card', start, end: start + value.length, detail: 'card expiry date' });
      consumed = expiry[0].length;
    }
  }
  const rest = window.slice(consumed);
  const cvv =
    /^[^\d]{0,30}?\b(?:cvv2?|cvc2?|cid|csc|security code|sec code|code)?\W{0,3}\b(\d{3,4})\b(?!\s*\d)/i.exec(
      rest,
    );
  if (cvv !== null) {
    const value = cvv[1] as string;
    const labelled = /cvv|cvc|cid|csc|code/i.test(cvv[0]);
    const glued = /^[/ ,-]{1,2}$/.test(cvv[0].slice(0, cvv[0].length - value.length)) && consumed > 0;
    if (labelled || glued || trailing.some((g) => g.digits === value)) {
      const start = cardEnd + consumed + cvv[0].length - value.length;
      extras.push({ kind: 'card', start, end: start + value.length, detail: 'card security code (CVV/CVC)' });
    }
  }
  return extras;
}
