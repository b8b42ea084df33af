import { type Finding, scanText } from '../compliance/content-scanner.ts';
import type { Redaction } from './messages.ts';

export interface RedactedText {
  /** The text as it may be stored: card, SSN and bank numbers replaced (cards keep brand and last 4). */
  body: string;
  /** Where each placeholder sits in `body`. */
  redactions: Redaction[];
  findings: Finding[];
}

/**
 * Redacts an inbound text before anything stores or publishes it (PCI DSS 3.3/3.4). Health
 * terms are not rewritten (the words are the message); they stay findings only.
 */
export function redactInbound(text: string): RedactedText {
  const scan = scanText(text);
  const redactions: Redaction[] = [];
  // scanText replaces non-overlapping card/SSN/bank findings in order with "[…]" placeholders
  // (none contains "]"), so each placeholder is found by walking both texts in step.
  let cursorIn = 0;
  let cursorOut = 0;
  for (const f of scan.findings) {
    if (f.kind === 'phi' || f.start < cursorIn) continue;
    const start = cursorOut + (f.start - cursorIn);
    const close = scan.redacted.indexOf(']', start);
    if (scan.redacted[start] !== '[' || close === -1) break;
    const end = close + 1;
    redactions.push({ kind: f.kind, start, end, label: scan.redacted.slice(start, end) });
    cursorIn = f.end;
    cursorOut = end;
  }
  return { body: scan.redacted, redactions, findings: scan.findings };
}
