/**
 * Exact-keyword handling (CTIA, carrier and FCC 2024 per-se words). The plain-language
 * classifier of the compliance issue (#4) builds on this; a keyword here is always decisive.
 * The words themselves are in the one opt-out lexicon (opt-out-lexicon.ts, #14).
 */
import {
  HELP_KEYWORDS,
  OPT_IN_KEYWORDS,
  OPT_IN_WHEN_OPTED_OUT_KEYWORDS,
  OPT_OUT_KEYWORDS,
} from './opt-out-lexicon.ts';

export type KeywordIntent = 'opt_out' | 'opt_in' | 'help';

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
  if (OPT_OUT_KEYWORDS.has(word)) return 'opt_out';
  if (OPT_IN_KEYWORDS.has(word)) return 'opt_in';
  if (OPT_IN_WHEN_OPTED_OUT_KEYWORDS.has(word) && currentlyOptedOut) return 'opt_in';
  if (HELP_KEYWORDS.has(word)) return 'help';
  return null;
}
