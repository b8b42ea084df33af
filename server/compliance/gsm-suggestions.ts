/**
 * GSM-7 replacements for characters that force a whole message into UCS-2 (70 instead of 160
 * characters per segment): smart quotes, dashes, ellipsis, odd spaces, accents outside the GSM
 * alphabet. The composer offers them; nothing is replaced without the rep's click.
 */
import { countSegments, type SegmentInfo } from './segments.ts';

const REPLACEMENTS: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u00b4': "'",
  '`': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u201f': '"',
  '\u2033': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2039': "'",
  '\u203a': "'",
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u00a0': ' ',
  '\u2002': ' ',
  '\u2003': ' ',
  '\u2007': ' ',
  '\u2009': ' ',
  '\u200a': ' ',
  '\u202f': ' ',
  '\u3000': ' ',
  '\u200b': '',
  '\u200c': '',
  '\u200d': '',
  '\u2060': '',
  '\ufeff': '',
  '\u00ad': '',
  '\u2022': '-',
  '\u00b7': '-',
  '\u2122': '(TM)',
  '\u00ae': '(R)',
  '\u00a9': '(C)',
  '\u00d7': 'x',
  '\u00f7': '/',
  '\u00bd': '1/2',
  '\u00bc': '1/4',
  '\u00be': '3/4',
  '\u2264': '<=',
  '\u2265': '>=',
  '\u2192': '->',
  '\u00b0': ' deg',
  '\u0153': 'oe',
  '\u0152': 'OE',
  '\u00e7': 'Ç',
  '\u0131': 'i',
  '\u0142': 'l',
  '\u0141': 'L',
  '\u00f0': 'd',
  '\u00fe': 'th',
  '\t': ' ',
};

export interface GsmSuggestion {
  char: string;
  /** GSM-7 text to use instead; '' removes an invisible character. */
  replacement: string;
  count: number;
}

export interface GsmSuggestions {
  suggestions: GsmSuggestion[];
  /** Characters with no sensible GSM-7 form (emoji, CJK…): they keep the message in UCS-2. */
  unreplaceable: string[];
  /** The text with every suggestion applied. */
  text: string;
  before: SegmentInfo;
  after: SegmentInfo;
}

/** The GSM-7 replacement for one character, or null (tables first, then accent stripping). */
export function gsmReplacement(char: string): string | null {
  const listed = REPLACEMENTS[char];
  if (listed !== undefined) return listed;
  const stripped = char.normalize('NFD').replace(/\p{M}/gu, '');
  if (stripped !== char && stripped !== '' && countSegments(stripped).encoding === 'GSM-7') return stripped;
  return null;
}

/** Suggestions for every character of `text` that forces UCS-2. */
export function suggestGsmReplacements(text: string): GsmSuggestions {
  const before = countSegments(text);
  const counts = new Map<string, number>();
  for (const ch of text) if (before.nonGsmCharacters.includes(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const suggestions: GsmSuggestion[] = [];
  const unreplaceable: string[] = [];
  for (const [char, count] of counts) {
    const replacement = gsmReplacement(char);
    if (replacement === null) unreplaceable.push(char);
    else suggestions.push({ char, replacement, count });
  }
  const map = new Map(suggestions.map((s) => [s.char, s.replacement]));
  const replaced = Array.from(text, (ch) => map.get(ch) ?? ch).join('');
  return { suggestions, unreplaceable, text: replaced, before, after: countSegments(replaced) };
}
