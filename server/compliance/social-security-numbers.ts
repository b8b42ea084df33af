/**
 * US Social Security numbers and ITINs in a text: the SSA's validity rules and the 3-2-4 shape,
 * with a context word required where the shape alone is ambiguous. Pure.
 */

import type { Finding } from './scan-finding.ts';
import { matchesOf } from './scan-matches.ts';

/** SSA rules: never area 000, 666 or 900–999, group 00 or serial 0000. */
export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  return (
    area !== 0 && area !== 666 && area < 900 && digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000'
  );
}

// Ends in (?!\w), not \b: after "ss#" or "no #" a space follows, and there is no word boundary there.
const SSN_CONTEXT = /\b(ssn|ss#|ss ?no|soc(ial)?( sec(urity)?)?( number| no| #)?|tax ?id|tin|itin)(?!\w)/i;

/**
 * 3-2-4 digits. Each gap may be empty, a space or a dash (the text is normalised, so `_`, line
 * breaks and odd dashes are already one of these). Not part of a longer digit sequence.
 */
const SSN_SHAPE = /(?<!\d[ -]?)(\d{3})( ?-? ?)(\d{2})( ?-? ?)(\d{4})(?![ -]?\d)/g;

/** SSNs and ITINs in the normalised text. */
export function findSsns(text: string): Finding[] {
  const findings: Finding[] = [];
  for (const m of matchesOf(text, SSN_SHAPE)) {
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
