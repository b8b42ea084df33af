/**
 * The one opt-out lexicon (#14): every STOP, START and HELP word the keyword matcher, the
 * text normaliser and the classifier know, kept in data/opt-out-lexicon.json so that adding a
 * carrier keyword is one line in one place and STOP recall cannot drift between three lists.
 * Keywords are the carriers' whole-message words, upper-case as the carriers write them; words
 * are the classifier's extra folded forms (other languages, spellings) that are not carrier keywords.
 */
import data from './data/opt-out-lexicon.json' with { type: 'json' };

/** Carrier, CTIA and FCC per-se opt-out keywords, as whole-message words. */
export const OPT_OUT_KEYWORDS: ReadonlySet<string> = new Set(data.optOutKeywords);
/** Re-subscribe keywords that count whatever the number's state. */
export const OPT_IN_KEYWORDS: ReadonlySet<string> = new Set(data.optInKeywords);
/** Re-subscribe keywords that count only for a number that is currently opted out (YES). */
export const OPT_IN_WHEN_OPTED_OUT_KEYWORDS: ReadonlySet<string> = new Set(data.optInWhenOptedOutKeywords);
export const HELP_KEYWORDS: ReadonlySet<string> = new Set(data.helpKeywords);

/** A keyword in the classifier's folded form: "OPT-OUT" → "optout", "ARRÊT" → "arret". */
export function foldKeyword(keyword: string): string {
  return keyword
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/^opt[ -]?out$/, 'optout')
    .replace(/^(stop|resume) all$/, '$1all');
}

const folded = (keywords: readonly string[], words: readonly string[]) =>
  new Set([...keywords.map(foldKeyword), ...words]);

/** Folded whole-message opt-out words: the carrier keywords plus other languages' words. */
export const OPT_OUT_WORDS: ReadonlySet<string> = folded(data.optOutKeywords, data.optOutWords);
export const OPT_IN_WORDS: ReadonlySet<string> = folded(data.optInKeywords, data.optInWords);
export const OPT_IN_WHEN_OPTED_OUT_WORDS: ReadonlySet<string> = folded(
  data.optInWhenOptedOutKeywords,
  data.optInWhenOptedOutWords,
);
export const HELP_WORDS: ReadonlySet<string> = folded(data.helpKeywords, data.helpWords);
/** Keywords whose presence in free text is decisive per se (FCC) or by carrier practice. */
export const PER_SE_VERBS: ReadonlySet<string> = new Set(data.perSeVerbs);
/** Keywords long enough that one dropped, doubled or swapped letter is a typo, not another word. */
export const TYPO_TARGETS: readonly string[] = data.typoTargets;
/**
 * Single-token keywords the normaliser may repair a misspelling into; multi-word and
 * two-letter keywords ("STOP ALL", "TD") are never the result of a repair.
 */
export const REPAIRABLE_KEYWORDS: ReadonlySet<string> = new Set(
  [...OPT_OUT_KEYWORDS, ...OPT_IN_KEYWORDS, ...HELP_KEYWORDS]
    .map(foldKeyword)
    .filter((k) => /^[a-z]{3,}$/.test(k)),
);
