/**
 * Loads the labelled corpora of ../shared/corpora and scores the classifier and the scanner
 * against them: per-label precision and recall, printed as a table. Shared by the accuracy
 * test and the compliance benchmark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { classifyInbound, type InboundLabel } from '../../server/compliance/classifier.ts';
import { type FindingKind, scanText, solicitsCardData } from '../../server/compliance/content-scanner.ts';

export interface CorpusItem {
  text: string;
  label: string;
  note: string;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Path of a corpus file next to the repository (../shared/corpora/<name>), or in CORPORA_DIR when
 * set: a git worktree elsewhere has no ../shared beside it.
 */
export function corpusPath(name: string): string {
  return path.resolve(process.env.CORPORA_DIR || path.resolve(ROOT, '../shared/corpora'), name);
}

/** Path of a corpus kept in the repository (test/compliance/corpora/<name>). */
export function repoCorpusPath(name: string): string {
  return path.resolve(import.meta.dirname, 'corpora', name);
}

/** The corpus items, or null when the file is not there (the shared corpora live outside the repo). */
export function loadCorpus(name: string): CorpusItem[] | null {
  return loadCorpusFile(corpusPath(name));
}

/** The items of one corpus file, or null when it is not there. */
export function loadCorpusFile(file: string): CorpusItem[] | null {
  if (!fs.existsSync(file)) return null;
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected an array of {text, label, note}`);
  return parsed.map((raw, i) => {
    const item = raw as Partial<CorpusItem>;
    if (typeof item.text !== 'string' || typeof item.label !== 'string') {
      throw new Error(`${file}[${i}]: expected {text, label, note}`);
    }
    return { text: item.text, label: item.label, note: typeof item.note === 'string' ? item.note : '' };
  });
}

export interface LabelScore {
  label: string;
  support: number;
  predicted: number;
  truePositives: number;
  precision: number;
  recall: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

function score(
  labels: readonly string[],
  pairs: ReadonlyArray<{ expected: string; predicted: Set<string> }>,
): LabelScore[] {
  return labels.map((label) => {
    const support = pairs.filter((p) => p.expected === label).length;
    const predicted = pairs.filter((p) => p.predicted.has(label)).length;
    const truePositives = pairs.filter((p) => p.expected === label && p.predicted.has(label)).length;
    return {
      label,
      support,
      predicted,
      truePositives,
      precision: ratio(truePositives, predicted),
      recall: ratio(truePositives, support),
    };
  });
}

export function formatTable(title: string, scores: readonly LabelScore[]): string {
  const rows = scores.map(
    (s) =>
      `  ${s.label.padEnd(12)}${String(s.support).padStart(8)}${String(s.predicted).padStart(10)}${s.precision.toFixed(3).padStart(11)}${s.recall.toFixed(3).padStart(9)}`,
  );
  return [
    `${title}`,
    `  ${'label'.padEnd(12)}${'support'.padStart(8)}${'predicted'.padStart(10)}${'precision'.padStart(11)}${'recall'.padStart(9)}`,
    ...rows,
  ].join('\n');
}

/** The number state the corpus note describes: YES/GO replies are written as after an opt-out. */
export function optedOutState(item: CorpusItem): boolean {
  return /opted-out (state|number)/i.test(item.note);
}

export interface OptOutReport {
  scores: LabelScore[];
  misses: Array<{ text: string; expected: string; got: InboundLabel; reason: string }>;
  /** Opt-out items whose note says a keyword (per-se, carrier or FCC word) was used. */
  keywordRecall: number;
  /** Opt-out or ambiguous items that came back normal or opt-in, i.e. would be ignored. */
  autoIgnored: number;
}

const OPT_OUT_LABELS: InboundLabel[] = ['opt_out', 'opt_in', 'help', 'ambiguous', 'normal'];

export function scoreOptOut(items: readonly CorpusItem[]): OptOutReport {
  const results = items.map((item) => ({
    item,
    result: classifyInbound(item.text, { currentlyOptedOut: optedOutState(item) }),
  }));
  const scores = score(
    OPT_OUT_LABELS,
    results.map(({ item, result }) => ({ expected: item.label, predicted: new Set([result.label]) })),
  );
  const keywordItems = results.filter(
    ({ item }) => item.label === 'opt_out' && /keyword|per-se|FCC/i.test(item.note),
  );
  const keywordHits = keywordItems.filter(({ result }) => result.label === 'opt_out').length;
  return {
    scores,
    misses: results
      .filter(({ item, result }) => item.label !== result.label)
      .map(({ item, result }) => ({
        text: item.text,
        expected: item.label,
        got: result.label,
        reason: result.reason,
      })),
    keywordRecall: ratio(keywordHits, keywordItems.length),
    autoIgnored: results.filter(
      ({ item, result }) =>
        (item.label === 'opt_out' || item.label === 'ambiguous') &&
        (result.label === 'normal' || result.label === 'opt_in'),
    ).length,
  };
}

export interface SensitiveReport {
  scores: LabelScore[];
  misses: Array<{ text: string; expected: string; got: string[] }>;
  /** Share of `none` items on which a card was reported. */
  cardFalsePositiveRate: number;
  /** Share of `none` items with any finding. */
  noneFalsePositiveRate: number;
  cardRequests: { support: number; detected: number };
}

const SENSITIVE_LABELS: Array<FindingKind | 'none'> = ['card', 'ssn', 'bank', 'phi', 'none'];

export function scoreSensitive(items: readonly CorpusItem[]): SensitiveReport {
  const results = items.map((item) => {
    const kinds = new Set<string>(scanText(item.text).findings.map((f) => f.kind));
    if (kinds.size === 0) kinds.add('none');
    return { item, kinds };
  });
  const scored = results.filter(({ item }) => item.label !== 'card_request');
  const none = scored.filter(({ item }) => item.label === 'none');
  const requests = results.filter(({ item }) => item.label === 'card_request');
  return {
    scores: score(
      SENSITIVE_LABELS,
      scored.map(({ item, kinds }) => ({ expected: item.label, predicted: kinds })),
    ),
    misses: scored
      .filter(
        ({ item, kinds }) =>
          !kinds.has(item.label) || (item.label !== 'none' && kinds.size > 1 && kinds.has('none')),
      )
      .map(({ item, kinds }) => ({ text: item.text, expected: item.label, got: [...kinds] })),
    cardFalsePositiveRate:
      none.length === 0 ? 0 : none.filter(({ kinds }) => kinds.has('card')).length / none.length,
    noneFalsePositiveRate:
      none.length === 0 ? 0 : none.filter(({ kinds }) => !kinds.has('none')).length / none.length,
    cardRequests: {
      support: requests.length,
      detected: requests.filter(({ item }) => solicitsCardData(item.text)).length,
    },
  };
}
