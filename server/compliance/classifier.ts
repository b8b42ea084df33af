/**
 * Inbound opt-out classifier (#4). The FCC's 2024 order (47 CFR 64.1200(a)(10)) makes STOP,
 * QUIT, END, REVOKE, OPT OUT, CANCEL and UNSUBSCRIBE decisive and any other reasonable
 * expression a presumed revocation; carriers add STOPALL, UNSUB, REMOVE and other languages.
 * Rules run in three layers: normalisation (inbound-text.ts), whole-message keywords, then
 * phrase rules per clause that look at negation and at the keyword's object, so "cancel my
 * order" goes to a person and "stop by at 3" stays a conversation.
 */
import {
  COURTESY,
  DETERMINERS,
  INSTRUCTION_LEAD,
  MESSAGE_WORDS,
  MESSAGING_NOUNS,
  MESSAGING_OBJECTS,
  NEGATIONS,
  NOUN_MODIFIED,
  VISIT_PREPOSITIONS,
} from './inbound-grammar-words.ts';
import type { InboundClassification, InboundLabel } from './inbound-label.ts';
import { HOW_TO_STOP, PHRASE_RULES, withoutNegatedRevocation } from './inbound-phrase-rules.ts';
import { type Clause, normalizeInbound } from './inbound-text.ts';
import {
  HELP_WORDS,
  OPT_IN_WHEN_OPTED_OUT_WORDS,
  OPT_IN_WORDS,
  OPT_OUT_WORDS,
  PER_SE_VERBS,
} from './opt-out-lexicon.ts';

export type { InboundClassification, InboundLabel } from './inbound-label.ts';

interface Verdict {
  label: InboundLabel;
  reason: string;
}

const PRIORITY: Record<InboundLabel, number> = { opt_out: 4, ambiguous: 3, help: 2, opt_in: 1, normal: 0 };

function withoutCourtesy(tokens: readonly string[]): string[] {
  const kept = tokens.filter((t) => !COURTESY.has(t));
  // "stop stop", "STOP 🛑": a repeated keyword is still the keyword.
  return kept.filter((t, i) => t !== kept[i - 1]);
}

/** Whole-message (or whole-clause) keywords: decisive. */
function keywordVerdict(tokens: readonly string[], currentlyOptedOut: boolean): Verdict | null {
  const core = withoutCourtesy(tokens);
  if (core.length === 0) return null;
  const phrase = core.join(' ');
  if (OPT_OUT_WORDS.has(phrase))
    return { label: 'opt_out', reason: `opt-out keyword "${phrase.toUpperCase()}"` };
  if (core.length === 2 && core[0] === 'i' && OPT_OUT_WORDS.has(core[1] as string)) {
    return {
      label: 'opt_out',
      reason: `opt-out keyword "${(core[1] as string).toUpperCase()}" in first person`,
    };
  }
  if (OPT_IN_WORDS.has(phrase))
    return { label: 'opt_in', reason: `opt-in keyword "${phrase.toUpperCase()}"` };
  if (currentlyOptedOut && core.length === 1 && OPT_IN_WHEN_OPTED_OUT_WORDS.has(phrase)) {
    return { label: 'opt_in', reason: `"${phrase.toUpperCase()}" from an opted-out number re-subscribes it` };
  }
  if (HELP_WORDS.has(phrase)) return { label: 'help', reason: `help keyword "${phrase.toUpperCase()}"` };
  return null;
}

/** What a per-se keyword means in context: the object it takes decides. */
function perSeVerdict(clause: Clause): Verdict | null {
  const { tokens } = clause;
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i] as string;
    if (!PER_SE_VERBS.has(word)) continue;
    const before = tokens.slice(0, i);
    const negated =
      before.some((t) => NEGATIONS.has(t)) || (before.at(-1) === 'not' && before.at(-2) === 'do');
    const after = tokens.slice(i + 1);
    const object = after.filter((t) => !COURTESY.has(t) || t === 'you');
    const head = object[0];
    const instruction = before.every(
      (t) => INSTRUCTION_LEAD.has(t) || NEGATIONS.has(t) || t === "let's" || t === 'lets',
    );
    const upper = word.toUpperCase();
    if (!instruction) continue;
    if (negated) {
      if (object.length === 0)
        return { label: 'ambiguous', reason: `negated keyword "${upper}" (e.g. "don't stop")` };
      continue;
    }
    if (object.length === 0) return { label: 'opt_out', reason: `keyword "${upper}" used as an instruction` };
    if (head === 'of' || NOUN_MODIFIED.has(head as string)) continue;
    if (word === 'stop' && VISIT_PREPOSITIONS.has(head as string)) continue;
    if (MESSAGING_OBJECTS.has(head as string) && head !== 'my' && head !== 'number') {
      return { label: 'opt_out', reason: `keyword "${upper}" aimed at the messages ("${word} ${head}")` };
    }
    if (head !== undefined && DETERMINERS.has(head) && MESSAGING_NOUNS.has(object[1] ?? '')) {
      return {
        label: 'opt_out',
        reason: `keyword "${upper}" aimed at the messages ("${word} ${head} ${object[1]}")`,
      };
    }
    const messageWord = object.find((t) => MESSAGE_WORDS.has(t));
    if (messageWord !== undefined) {
      return {
        label: 'opt_out',
        reason: `keyword "${upper}" whose object names the messages ("${messageWord}")`,
      };
    }
    return {
      label: 'ambiguous',
      reason: `keyword "${upper}" aimed at something other than the messages ("${[word, ...object.slice(0, 3)].join(' ')}")`,
    };
  }
  return null;
}

function strongest(verdicts: readonly Verdict[]): Verdict | null {
  let best: Verdict | null = null;
  for (const v of verdicts) if (best === null || PRIORITY[v.label] > PRIORITY[best.label]) best = v;
  return best;
}

function clauseVerdict(clause: Clause, message: string, currentlyOptedOut: boolean): Verdict | null {
  const keyword = keywordVerdict(clause.tokens, currentlyOptedOut);
  if (keyword !== null && keyword.label !== 'opt_in' && keyword.label !== 'help') return keyword;
  if (HOW_TO_STOP.test(clause.text)) return { label: 'help', reason: 'asks how to stop the messages' };
  const found: Verdict[] = [];
  const judged = withoutNegatedRevocation(clause.text);
  for (const rule of PHRASE_RULES) {
    if (!rule.pattern.test(judged)) continue;
    if (rule.unless?.test(message)) continue;
    if (rule.label === 'opt_in' && !saysOnly(message, rule.pattern)) {
      found.push({ label: 'ambiguous', reason: `${rule.id}: asks for texts again among other words` });
      continue;
    }
    found.push({ label: rule.label, reason: `${rule.id}: ${rule.reason}` });
  }
  const perSe = perSeVerdict(clause);
  if (perSe !== null) found.push(perSe);
  return strongest(found);
}

/**
 * Whether the message says nothing but the phrase (and courtesy words). Re-subscribing in free
 * words re-opens texting to someone who said STOP, so it counts only when it stands alone: "text
 * me again and see what happens" or "you can text me again when hell freezes over" go to a person.
 */
function saysOnly(message: string, phrase: RegExp): boolean {
  const rest = message.replace(new RegExp(phrase.source, `${phrase.flags.replace('g', '')}g`), ' ');
  const words = withoutCourtesy(rest.split(/[^a-z0-9']+/).filter((t) => t !== ''));
  return words.every((w) => RESUBSCRIBE_FILLER.has(w));
}

/** Words around a re-subscription phrase that add nothing ("I want…", "you can start…again"). */
const RESUBSCRIBE_FILLER = new Set([
  'i',
  "i'd",
  'id',
  "i'm",
  'you',
  'can',
  'could',
  'may',
  'me',
  'again',
  'texts',
  'messages',
  'now',
  'to',
  'back',
  'like',
  'want',
  'would',
  'the',
  'your',
]);

/** Whole replies that decline without saying what (bare "no", 👎, "Enough."). */
const BARE_DECLINES = new Set([
  'no',
  'nope',
  'nah',
  'no thanks',
  'no thank you',
  'enough',
  'not really',
  "i'm good",
  'im good',
  'pass',
]);
const DECLINE_EMOJI = new Set(['👎', '✋', '🙅', '❌', '🚷', '🤚', '😡', '🤬', '🖕']);

/**
 * Classifies one inbound text. `opt_out` must be honoured at once; `ambiguous` pauses
 * automated sends and goes to a person (one clarifying confirmation is allowed); `help` gets
 * the HELP reply; `opt_in` re-subscribes (YES and GO only when the number is opted out).
 */
export function classifyInbound(
  text: string,
  options: { currentlyOptedOut: boolean },
): InboundClassification {
  const n = normalizeInbound(text);
  if (n.clauses.length === 0) {
    if (n.emoji.some((e) => DECLINE_EMOJI.has(e)))
      return { label: 'ambiguous', reason: `decline emoji ${n.emoji.join('')}` };
    return { label: 'normal', reason: text.trim() === '' ? 'empty message' : 'no words' };
  }
  const whole = keywordVerdict(
    n.clauses.flatMap((c) => c.tokens),
    options.currentlyOptedOut,
  );
  if (whole !== null) return whole;
  const bare = withoutCourtesy(n.clauses.flatMap((c) => c.tokens)).join(' ');
  if (BARE_DECLINES.has(bare)) return { label: 'ambiguous', reason: `bare decline "${bare}"` };
  const verdicts: Verdict[] = [];
  for (const clause of n.clauses) {
    const v = clauseVerdict(clause, n.text, options.currentlyOptedOut);
    if (v !== null) verdicts.push(v);
  }
  // A separate "no" next to an opt-out phrase changes nothing; beside other words it is a reply.
  const best = strongest(verdicts);
  if (best !== null && best.label !== 'normal') return best;
  const mayText = /\b(you can|you may|feel free to|ok to|okay to) (text|message|txt|contact) me\b/;
  if (options.currentlyOptedOut && mayText.test(n.text)) {
    return saysOnly(n.text, mayText)
      ? { label: 'opt_in', reason: 'an opted-out number says it may be texted' }
      : { label: 'ambiguous', reason: 'says it may be texted, among other words' };
  }
  return { label: 'normal', reason: 'no opt-out, opt-in or help signal' };
}
