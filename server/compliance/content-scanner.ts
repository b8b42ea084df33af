/**
 * Sensitive-content scanner (#4): payment cards (PCI DSS 4.2.2: no PAN over SMS), SSNs, bank
 * routing/account numbers and health-information indicators (HIPAA minimum necessary). Pure
 * and synchronous so the relay can scan before anything is persisted and the extension can
 * warn before a rep sends. Card, SSN and bank numbers are redacted; PHI is flagged, not
 * rewritten, because the words themselves are the message.
 */
import { findBankNumbers } from './bank-numbers.ts';
import { cardBrand, findCards } from './card-numbers.ts';
import { findPhi } from './phi-terms.ts';
import type { Finding, FindingKind } from './scan-finding.ts';
import { normaliseForScan, originalSpan } from './scan-normalisation.ts';
import { mayHoldAnything, prefilter } from './scan-prefilter.ts';
import { findSsns } from './social-security-numbers.ts';

export type { Finding, FindingKind } from './scan-finding.ts';

export interface ScanResult {
  findings: Finding[];
  /** The text with card, SSN and bank numbers replaced (cards keep brand and last four). */
  redacted: string;
}

/** UUIDs can hide a Luhn-valid test PAN across their groups. */
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** Appends `more` to `all` (a loop: spreading into push goes through the iterator protocol). */
function append(all: Finding[], more: readonly Finding[]): void {
  for (let i = 0; i < more.length; i++) all.push(more[i] as Finding);
}

/** The ASCII digits of a stretch of normalised text, as `.replace(/\D/g, '')` gives them but without its cost (#20). */
function digitsOf(text: string, start: number, end: number): string {
  let digits = '';
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits += text[i];
  }
  return digits;
}

const ORDER: Record<FindingKind, number> = { card: 0, bank: 1, ssn: 2, phi: 3 };

/** A finding with its placeholder, worked out from its own digits before any merging. */
interface Labelled {
  finding: Finding;
  placeholder: string | null;
}

/**
 * Drops findings that overlap an earlier, more severe one (`findings` is sorted and its items
 * changed in place) (a card beats the SSN inside it). A
 * dropped finding that reaches past the one kept widens it: a labelled account number of which
 * only a part is a Luhn-valid card must still be redacted whole, not leave its other digits.
 */
function resolveOverlaps(findings: Labelled[]): Labelled[] {
  // One finding overlaps nothing (#20: most texts with a finding have one).
  if (findings.length === 1) return findings;
  const kept: Labelled[] = [];
  for (const item of sortStably(findings, bySeverityThenStart)) {
    const f = item.finding;
    const over = f.kind === 'phi' ? undefined : kept.find((k) => overlapsNumber(k.finding, f));
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
    kept.push(item);
  }
  return sortStably(kept, byStartThenSeverity);
}

/**
 * Sorts in place, equal items kept in their order, as Array.prototype.sort does; by insertion, as
 * a text has a handful of findings and the built-in sort's set-up cost more than the sorting (#20).
 */
function sortStably<T>(items: T[], compare: (a: T, b: T) => number): T[] {
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as T;
    let j = i - 1;
    while (j >= 0 && compare(items[j] as T, item) > 0) {
      items[j + 1] = items[j] as T;
      j -= 1;
    }
    items[j + 1] = item;
  }
  return items;
}

const bySeverityThenStart = (a: Labelled, b: Labelled) =>
  ORDER[a.finding.kind] - ORDER[b.finding.kind] || a.finding.start - b.finding.start;
const byStartThenSeverity = (a: Labelled, b: Labelled) =>
  a.finding.start - b.finding.start || ORDER[a.finding.kind] - ORDER[b.finding.kind];
/** Whether `k`, a number finding, overlaps `f`, another one. */
const overlapsNumber = (k: Finding, f: Finding) => k.kind !== 'phi' && f.start < k.end && k.start < f.end;

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

/** A payment link's token (`…/p/` and 22 random base64url characters): chance, never prose. */
const LINK_TOKEN = /(https?:\/\/\S*?\/p\/)([A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])/g;

/**
 * The text with each payment link's token blanked (same length, so spans stay put): "-Rx-" or
 * "-5mg-" in a random token is no prescription, and refused a payment request now and then.
 */
function blankLinkTokens(text: string): string {
  if (!text.includes('/p/')) return text;
  return text.replace(LINK_TOKEN, (_, prefix: string, token: string) => prefix + ' '.repeat(token.length));
}

/**
 * Finds and redacts sensitive content in one message. Every path that judges or stores a text
 * (send, preflight, inbound, the extension's drafts and outbox) calls this, so all of them see
 * through other scripts' digits, invisible characters and odd separators alike.
 */
export function scanText(text: string): ScanResult {
  // Most texts are their own normal form and hold no number or health word: one pass says so (#20).
  if (!mayHoldAnything(text)) return { findings: [], redacted: text };
  // Scanned without payment-link tokens (blanked, same length: spans stay those of `text`).
  const unlinked = blankLinkTokens(text);
  let may = prefilter(unlinked);
  const normalised = may.ownForm ? null : normaliseForScan(unlinked);
  const plain = normalised === null ? unlinked : normalised.text;
  if (normalised !== null) may = prefilter(plain);
  if (!may.numbers && may.phiRules === 0) return { findings: [], redacted: text };
  const raw: Finding[] = [];
  if (may.numbers) {
    // UUIDs can hide a Luhn-valid test PAN across their groups; blank them out (same length).
    const scanned = may.uuid ? plain.replace(UUID, (u) => ' '.repeat(u.length)) : plain;
    if (may.cardOrSsn) append(raw, findCards(plain, scanned));
    append(raw, findBankNumbers(scanned, may));
    if (may.cardOrSsn) append(raw, findSsns(scanned));
  }
  if (may.phiRules !== 0) append(raw, findPhi(plain, may.phiRules));
  if (raw.length === 0) return { findings: [], redacted: text };
  const labelled: Labelled[] = [];
  for (const finding of raw)
    labelled.push({
      finding,
      // Only a card's placeholder shows digits (its brand and last four).
      placeholder: replacement(
        finding,
        finding.kind === 'card' ? digitsOf(plain, finding.start, finding.end) : '',
      ),
    });
  const found = resolveOverlaps(labelled);
  const findings: Finding[] = [];
  let redacted = '';
  let cursor = 0;
  for (const { finding, placeholder } of found) {
    const span = normalised === null ? finding : originalSpan(normalised, finding.start, finding.end);
    findings.push({ kind: finding.kind, start: span.start, end: span.end, detail: finding.detail });
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
