/**
 * Sensitive-content scanner (#4): payment cards (PCI DSS 4.2.2: no PAN over SMS), SSNs, bank
 * routing/account numbers and health-information indicators (HIPAA minimum necessary). Pure
 * and synchronous so the relay can scan before anything is persisted and the extension can
 * warn before a rep sends. Card, SSN and bank numbers are redacted; PHI is flagged, not
 * rewritten, because the words themselves are the message.
 */
import bankLabels from './data/bank-number-labels.json' with { type: 'json' };
import { PHI_RULES } from './phi-terms.ts';
import { normaliseForScan, originalSpan } from './scan-normalisation.ts';

export type FindingKind = 'card' | 'ssn' | 'bank' | 'phi';

/**
 * One sensitive span of the scanned text; `start`/`end` are UTF-16 offsets into the text as
 * written (not as normalised), end exclusive.
 */
export interface Finding {
  kind: FindingKind;
  start: number;
  end: number;
  detail: string;
}

export interface ScanResult {
  findings: Finding[];
  /** The text with card, SSN and bank numbers replaced (cards keep brand and last four). */
  redacted: string;
}

// ---------------------------------------------------------------------------------------------
// Checksums and tables

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
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

function prefixMatches(digits: string, [from, to]: [string, string]): boolean {
  const head = Number(digits.slice(0, from.length));
  return digits.length >= from.length && head >= Number(from) && head <= Number(to);
}

/** The brand whose prefix and length fit, or null (the first match in table order wins). */
export function cardBrand(digits: string): string | null {
  for (const rule of CARD_BRANDS) {
    if (!rule.lengths.includes(digits.length)) continue;
    if (rule.prefixes.some((p) => prefixMatches(digits, p))) return rule.brand;
  }
  return null;
}

/** Whether the digits start like a card of some brand, whatever their length. */
function hasCardPrefix(digits: string): boolean {
  return CARD_BRANDS.some((rule) => rule.prefixes.some((p) => prefixMatches(digits, p)));
}

/** SSA rules: never area 000, 666 or 900–999, group 00 or serial 0000. */
export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  return (
    area !== 0 && area !== 666 && area < 900 && digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000'
  );
}

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

// ---------------------------------------------------------------------------------------------
// Cards

interface Group {
  digits: string;
  start: number;
  end: number;
}

/** Runs of digit groups joined by the separators people type inside card numbers. */
const DIGIT_RUN = /\d+(?:[ \-.\u00a0\u2007\u202f\u2009/()]{1,3}\d+)*/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** Letters that may touch a card number directly ("CC4242…", "…4242exp"). */
const CARD_LABELS = /^(cc|card|cards|visa|mc|amex|pan|no|num|nr|number|exp|expiry|cvv|cvc|x)$/i;
const CARD_CONTEXT =
  /\b(card|cc|credit|debit|visa|master ?card|mc|amex|discover|diners|jcb|unionpay|maestro|pan|cvv|cvc|exp)\b/i;

function groupsOf(run: string, offset: number): Group[] {
  return [...run.matchAll(/\d+/g)].map((m) => ({
    digits: m[0],
    start: offset + (m.index ?? 0),
    end: offset + (m.index ?? 0) + m[0].length,
  }));
}

/** Whether the run is glued to letters or hyphenated into an identifier (licence keys, VINs, SKUs). */
function partOfIdentifier(text: string, start: number, end: number): boolean {
  const before = text.slice(Math.max(0, start - 12), start);
  const after = text.slice(end, end + 12);
  const lettersBefore = /([\p{L}]+)$/u.exec(before);
  if (lettersBefore !== null && !CARD_LABELS.test(lettersBefore[1] as string)) return true;
  const lettersAfter = /^([\p{L}]+)/u.exec(after);
  if (lettersAfter !== null && !CARD_LABELS.test(lettersAfter[1] as string)) return true;
  if (/[\p{L}\p{N}][-_/.]$/u.test(before) && !/[\s:#]$/.test(before.slice(0, -1))) return true;
  if (/^[-_][\p{L}\p{N}]/u.test(after)) return true;
  return false;
}

function findCards(text: string, scanned: string): Finding[] {
  const findings: Finding[] = [];
  for (const m of scanned.matchAll(DIGIT_RUN)) {
    const runStart = m.index ?? 0;
    const runEnd = runStart + m[0].length;
    const groups = groupsOf(m[0], runStart);
    const total = groups.reduce((n, g) => n + g.digits.length, 0);
    if (total < 8 || partOfIdentifier(scanned, runStart, runEnd)) continue;
    let best: { i: number; j: number; digits: string; brand: string } | null = null;
    for (let i = 0; i < groups.length && best === null; i++) {
      let digits = '';
      for (let j = i; j < groups.length; j++) {
        digits += (groups[j] as Group).digits;
        if (digits.length > 19) break;
        // The rest of the run may only be an expiry and a security code (≤ 7 digits).
        if (digits.length < 12 || total - digits.length > 7) continue;
        const brand = cardBrand(digits);
        if (brand !== null && luhnValid(digits)) best = { i, j, digits, brand };
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
    const fourDigitGroups = groups.every((g) => g.digits.length === 4);
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

// ---------------------------------------------------------------------------------------------
// SSNs and bank numbers

// Ends in (?!\w), not \b: after "ss#" or "no #" a space follows, and there is no word boundary there.
const SSN_CONTEXT = /\b(ssn|ss#|ss ?no|soc(ial)?( sec(urity)?)?( number| no| #)?|tax ?id|tin|itin)(?!\w)/i;

/**
 * 3-2-4 digits. Each gap may be empty, a space or a dash (the text is normalised, so `_`, line
 * breaks and odd dashes are already one of these). Not part of a longer digit sequence.
 */
const SSN_SHAPE = /(?<!\d[ -]?)(\d{3})( ?-? ?)(\d{2})( ?-? ?)(\d{4})(?![ -]?\d)/g;

function findSsns(text: string): Finding[] {
  const findings: Finding[] = [];
  for (const m of text.matchAll(SSN_SHAPE)) {
    const digits = `${m[1]}${m[3]}${m[5]}`;
    const start = m.index ?? 0;
    const before = text.slice(Math.max(0, start - 40), start);
    const context = SSN_CONTEXT.test(before) || /^\s*\(?(ssn|social)/i.test(text.slice(start + m[0].length));
    const area = Number(m[1]);
    if (area >= 900 && /\bitin\b/i.test(before)) {
      findings.push({ kind: 'ssn', start, end: start + m[0].length, detail: 'ITIN (taxpayer id)' });
      continue;
    }
    if (!isValidSsn(digits)) continue;
    // Written 3-2-4 with both gaps, it is shaped like nothing else people text (phone numbers are
    // 3-3-4); nine digits in one piece (routing numbers, ids) or with one gap (ZIP+4: 5-4) need a
    // context word.
    if ((m[2] === '' || m[4] === '') && !context) continue;
    findings.push({
      kind: 'ssn',
      start,
      end: start + m[0].length,
      detail: context ? 'US Social Security number' : 'possible US Social Security number (no context word)',
    });
  }
  return findings;
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

function findBankNumbers(text: string): Finding[] {
  const findings: Finding[] = [];
  const hasContext = BANK_CONTEXT.test(text);
  const hasContextBesidesWeak = BANK_CONTEXT_BESIDES_WEAK.test(text);
  for (const m of text.matchAll(/(?<![\d-])\d{9}(?![\d-])/g)) {
    const start = m.index ?? 0;
    const end = start + 9;
    if (!isValidRoutingNumber(m[0])) continue;
    const near = text.slice(end, end + 30);
    const account = /^(\s*(?:\/|,|and|acct\.?|account|#|no\.?|number|:|-)*\s*)+(\d{4,17})(?!\d)/i.exec(near);
    const before = text.slice(Math.max(0, start - 30), start);
    const accountBefore = /(\d{4,17})(\s*(\/|,|and|acct|account|#|:|-)*\s*)+$/i.exec(before);
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
  for (const { pattern, detail, needsContext } of LABELLED) {
    if (needsContext && !hasContextBesidesWeak) continue;
    for (const m of text.matchAll(pattern)) {
      const number = m[1] as string;
      const start = (m.index ?? 0) + m[0].length - number.length;
      findings.push({ kind: 'bank', start, end: start + number.length, detail });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Health information

function findPhi(text: string): Finding[] {
  const findings: Finding[] = [];
  for (const rule of PHI_RULES) {
    for (const m of text.matchAll(rule.pattern)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      const around = text.slice(Math.max(0, start - 30), Math.min(text.length, end + 30));
      if (rule.unless?.test(around)) continue;
      findings.push({ kind: 'phi', start, end, detail: rule.detail });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

const ORDER: Record<FindingKind, number> = { card: 0, bank: 1, ssn: 2, phi: 3 };

/** A finding with its placeholder, worked out from its own digits before any merging. */
interface Labelled {
  finding: Finding;
  placeholder: string | null;
}

/**
 * Drops findings that overlap an earlier, more severe one (a card beats the SSN inside it). A
 * dropped finding that reaches past the one kept widens it: a labelled account number of which
 * only a part is a Luhn-valid card must still be redacted whole, not leave its other digits.
 */
function resolveOverlaps(findings: Labelled[]): Labelled[] {
  const sorted = [...findings].sort(
    (a, b) => ORDER[a.finding.kind] - ORDER[b.finding.kind] || a.finding.start - b.finding.start,
  );
  const kept: Labelled[] = [];
  for (const item of sorted) {
    const f = item.finding;
    const over = kept.find(
      ({ finding: k }) => k.kind !== 'phi' && f.kind !== 'phi' && f.start < k.end && k.start < f.end,
    );
    if (over !== undefined) {
      // The card's last four are not the wider number's last four: show no digits of it then.
      if (over.finding.kind === 'card' && (f.start < over.finding.start || f.end > over.finding.end))
        over.placeholder = '[card number removed]';
      over.finding = {
        ...over.finding,
        start: Math.min(over.finding.start, f.start),
        end: Math.max(over.finding.end, f.end),
      };
      continue;
    }
    if (kept.some(({ finding: k }) => k.kind === f.kind && k.start === f.start && k.end === f.end)) continue;
    kept.push({ ...item });
  }
  return kept.sort(
    (a, b) => a.finding.start - b.finding.start || ORDER[a.finding.kind] - ORDER[b.finding.kind],
  );
}

/** The placeholder for a finding; `digits` are the finding's digits, as ASCII. */
function replacement(f: Finding, digits: string): string | null {
  switch (f.kind) {
    case 'card': {
      if (f.detail.startsWith('card expiry')) return '[exp ••/••]';
      if (f.detail.startsWith('card security')) return '[cvv •••]';
      if (f.detail.startsWith('possible card-number fragment')) return '[card fragment removed]';
      const brand = cardBrand(digits) ?? 'card';
      return `[card •••• ${digits.slice(-4)} (${brand})]`;
    }
    case 'ssn':
      return '[SSN removed]';
    case 'bank':
      return f.detail.startsWith('ABA') ? '[routing number removed]' : '[account number removed]';
    case 'phi':
      return null;
  }
}

/**
 * Finds and redacts sensitive content in one message. Every path that judges or stores a text
 * (send, preflight, inbound, the extension's drafts and outbox) calls this, so all of them see
 * through other scripts' digits, invisible characters and odd separators alike.
 */
export function scanText(text: string): ScanResult {
  const normalised = normaliseForScan(text);
  const plain = normalised.text;
  // UUIDs can hide a Luhn-valid test PAN across their groups; blank them out (same length).
  const scanned = plain.replace(UUID, (u) => ' '.repeat(u.length));
  const found = resolveOverlaps(
    [...findCards(plain, scanned), ...findBankNumbers(scanned), ...findSsns(scanned), ...findPhi(plain)].map(
      (finding) => ({
        finding,
        placeholder: replacement(finding, plain.slice(finding.start, finding.end).replace(/\D/g, '')),
      }),
    ),
  );
  const findings: Finding[] = [];
  let redacted = '';
  let cursor = 0;
  for (const { finding, placeholder } of found) {
    const span = originalSpan(normalised, finding.start, finding.end);
    findings.push({ ...finding, ...span });
    if (placeholder === null || span.start < cursor) continue;
    redacted += text.slice(cursor, span.start) + placeholder;
    cursor = span.end;
  }
  redacted += text.slice(cursor);
  return { findings, redacted };
}

/** Whether a (rep's) message asks for card data by text, which pulls SMS into PCI scope. */
export function solicitsCardData(text: string): boolean {
  return /\b(text|send|give|reply with|provide|share|need|type|what(?:'s| is))( me| us)?( with)?( your| the)?( full| complete| long)? (credit card|debit card|card number|card #|card no|card details|card info|cc number|cc #|cc|cvv|cvc|security code|expiration date|exp date)\b/i.test(
    text,
  );
}
