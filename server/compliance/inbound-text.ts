/**
 * Normalisation of inbound texts for the opt-out classifier (#4): case and accent folding,
 * emoji that mean "stop", letter-spaced and leetspeak spellings, common typos of the keywords,
 * and clause splitting. Pure and dependency-free so the extension can run it too.
 */
// The keyword repair only ever produces a word of the one lexicon; anything else is left as typed.
import { REPAIRABLE_KEYWORDS as REPAIRABLE, TYPO_TARGETS } from './opt-out-lexicon.ts';

/** Real words one edit away from a keyword: never "repaired". */
const REAL_WORDS = new Set([
  'spot',
  'tops',
  'pots',
  'post',
  'opts',
  'shop',
  'step',
  'stoop',
  'top',
  'sop',
  'quiet',
  'quite',
  'suit',
  'cancer',
  'remote',
  'remover',
  'removed',
  'removes',
  'revoked',
  'canceled',
  'cancels',
  'stops',
  'stopped',
  'quits',
  'ends',
  'start',
  'stat',
  'subscribe',
  'subscribed',
  'subscriber',
  'subscribers',
  'subscription',
  'resubscribe',
  'resubscribed',
]);

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'i',
};

/** Emoji that say "stop" on their own; ✋ and 👎 are left for the ambiguity rules. */
const STOP_EMOJI = /[\u{1F6D1}\u26D4\u{1F6AB}]/gu;

export interface Clause {
  /** Folded tokens of the clause, after keyword repair. */
  tokens: string[];
  /** The tokens joined by single spaces, for phrase patterns. */
  text: string;
  question: boolean;
}

export interface NormalizedInbound {
  /** Folded, repaired tokens of the whole message joined by spaces. */
  text: string;
  clauses: Clause[];
  /** Pictographs present in the original text (for emoji-only replies). */
  emoji: string[];
  /** Whether the message had no letters or digits at all. */
  symbolsOnly: boolean;
}

/** Lower-case, strip accents, unify apostrophes: "Arrête" → "arrete", "don’t" → "don't". */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`´]/g, "'")
    .replace(/\u00a0/g, ' ');
}

function damerauAtMostOne(
  a: string,
  b: string,
): { distance: number; kind: 'same' | 'sub' | 'ins' | 'del' | 'swap' } {
  if (a === b) return { distance: 0, kind: 'same' };
  if (Math.abs(a.length - b.length) > 1) return { distance: 2, kind: 'sub' };
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return { distance: 1, kind: 'sub' };
    if (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2))
      return { distance: 1, kind: 'swap' };
    return { distance: 2, kind: 'sub' };
  }
  if (a.length > b.length)
    return a.slice(i + 1) === b.slice(i) ? { distance: 1, kind: 'ins' } : { distance: 2, kind: 'sub' };
  return a.slice(i) === b.slice(i + 1) ? { distance: 1, kind: 'del' } : { distance: 2, kind: 'sub' };
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/**
 * Maps an obfuscated or misspelt keyword to the keyword ("st0p" → "stop", "stpo" → "stop",
 * "unsuscribe" → "unsubscribe", "stoooop" → "stop"); any other token comes back unchanged.
 */
export function repairToken(token: string): string {
  if (REPAIRABLE.has(token)) return token;
  let t = token;
  if (/[a-z]/.test(t) && /[0-9@$!|]/.test(t)) t = t.replace(/[0-9@$!|]/g, (c) => LEET[c] ?? c);
  if (!/^[a-z]+$/.test(t)) return token;
  if (REPAIRABLE.has(t)) return t;
  const squeezed = t.replace(/(.)\1+/g, '$1');
  if (REPAIRABLE.has(squeezed) && squeezed !== 'end') return squeezed;
  if (REAL_WORDS.has(t)) return token;
  for (const target of TYPO_TARGETS) {
    if (target.length >= 9) {
      if (t.length >= 8 && levenshtein(t, target) <= 2) return target;
      continue;
    }
    const d = damerauAtMostOne(t, target);
    if (d.distance !== 1) continue;
    // Short words: only a swap or an extra letter ("stpo", "stoop"); substitutions make real words.
    if (target.length <= 4 && d.kind !== 'swap' && d.kind !== 'ins') continue;
    if (target.length <= 6 && d.kind === 'sub') continue;
    return target;
  }
  return token;
}

/** Joins letter-spaced spellings of a keyword: "S T O P", "s.t.o.p", "u-n-s-u-b". */
function collapseSpacedLetters(text: string): string {
  return text.replace(
    /(?<![\p{L}\p{N}])(?:[\p{L}\p{N}$@][ .\-_*·]+){2,}[\p{L}\p{N}$@](?![\p{L}\p{N}])/gu,
    (run) => {
      const joined = run.replace(/[ .\-_*·]+/g, '');
      const repaired = repairToken(joined);
      return REPAIRABLE.has(repaired) ? ` ${repaired} ` : run;
    },
  );
}

const TOKEN = /[\p{L}\p{N}$@|*]+(?:['][\p{L}]+)*/gu;

function tokenize(clause: string): string[] {
  const raw = clause.match(TOKEN) ?? [];
  const tokens: string[] = [];
  for (const piece of raw) {
    // "f***" keeps its asterisks for the profanity rule; elsewhere they are separators.
    const token = /^[a-z]\*+$/.test(piece) ? piece : piece.replace(/\*/g, '');
    if (token === '') continue;
    tokens.push(repairToken(token));
  }
  // "opt out" and "opt-out" are one keyword.
  const joined: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    if (t === 'opt' && next === 'out') {
      joined.push('optout');
      i++;
    } else if (t === 'opt' && next === 'in') {
      joined.push('optin');
      i++;
    } else if ((t === 'stop' || t === 'resume') && next === 'all') {
      joined.push(`${t}all`);
      i++;
    } else joined.push(t);
  }
  return joined;
}

const EXTENDED_PICTOGRAPHIC = /\p{Extended_Pictographic}/gu;

/** Folds, repairs and splits an inbound text into clauses. */
export function normalizeInbound(text: string): NormalizedInbound {
  const emoji = text.match(EXTENDED_PICTOGRAPHIC) ?? [];
  let folded = fold(text)
    .replace(STOP_EMOJI, ' stop ')
    .replace(/\bwrong\s*#/g, 'wrong number');
  // Hyphenated words are single words ("non-stop", "stop-loss", "opt-out", "re-subscribe").
  folded = folded.replace(/(\p{L})-(?=\p{L}{2})/gu, '$1');
  folded = collapseSpacedLetters(folded);
  const clauses: Clause[] = [];
  for (const match of folded.matchAll(/[^.!?;,\n:()]+([.!?;,\n:()]*)/g)) {
    const tokens = tokenize(match[0]);
    if (tokens.length === 0) continue;
    clauses.push({ tokens, text: tokens.join(' '), question: (match[1] ?? '').includes('?') });
  }
  const all = clauses.flatMap((c) => c.tokens);
  return {
    text: all.join(' '),
    clauses,
    emoji: [...emoji],
    symbolsOnly: !/[\p{L}\p{N}]/u.test(text),
  };
}
