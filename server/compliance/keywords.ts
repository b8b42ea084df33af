/**
 * Exact-keyword handling (CTIA, carrier and FCC 2024 per-se words). The plain-language
 * classifier of the compliance issue (#4) builds on this; a keyword here is always decisive.
 */
export type KeywordIntent = 'opt_out' | 'opt_in' | 'help';

/** Carrier, CTIA and FCC per-se opt-out keywords, as whole-message words. */
export const OPT_OUT: ReadonlySet<string> = new Set([
  'STOP',
  'STOPALL',
  'STOP ALL',
  'END',
  'CANCEL',
  'UNSUBSCRIBE',
  'UNSUB',
  'QUIT',
  'REVOKE',
  'OPT OUT',
  'OPTOUT',
  'OPT-OUT',
  'REMOVE',
  'ARRET',
  'ARRÊT',
  'ARRETE',
  'ARRÊTE',
  'ALTO',
  'BAJA',
  'PARAR',
  'STOPP',
  'TD',
]);
/** Re-subscribe keywords that count whatever the number's state (YES and GO only after an opt-out). */
export const OPT_IN: ReadonlySet<string> = new Set(['START', 'UNSTOP', 'RESUME', 'RESUME ALL']);
export const HELP: ReadonlySet<string> = new Set(['HELP', 'INFO', 'AIDE', 'AYUDA']);

/** Upper-cases and strips surrounding punctuation, emoji and spacing: " Stop! " → "STOP". */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFC')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Classifies a whole inbound text that is a single keyword. YES counts as opt-in only for a
 * number that is currently opted out, as the carriers' rules say.
 */
export function matchKeyword(text: string, currentlyOptedOut: boolean): KeywordIntent | null {
  const word = normalizeKeyword(text);
  if (OPT_OUT.has(word)) return 'opt_out';
  if (OPT_IN.has(word)) return 'opt_in';
  if (word === 'YES' && currentlyOptedOut) return 'opt_in';
  if (HELP.has(word)) return 'help';
  return null;
}
