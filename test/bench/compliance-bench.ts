/**
 * Compliance engine throughput (#20 item 3): messages per second of the opt-out classifier and
 * of the sensitive-content scanner over the FULL shared corpora, each as a ratio against a
 * yardstick that does the scanner's job at its simplest: one linear pass of a compiled digit-run
 * regex over the same texts, measured in the same run, so the figure means the same on a laptop
 * and on CI. The scanner's target is half the yardstick's speed. A missing corpus fails the
 * bench: a figure over a few built-in texts would say nothing about real traffic.
 *
 * It also measures the pure part of a send's compliance check (the number's check, its zones,
 * quiet hours and the content scan, through `decideOutbound`) in decisions per second; see
 * decision-bench.ts. Run this section alone with `npx tsx test/bench/run-compliance.ts`.
 */
import { classifyInbound } from '../../server/compliance/classifier.ts';
import { scanText } from '../../server/compliance/content-scanner.ts';
import { corpusPath, loadCorpus } from '../compliance/corpus-metrics.ts';
import { decisionsPerSecond } from './decision-bench.ts';

/** The scanner must run at least at this fraction of the yardstick's speed. */
export const SCANNER_TARGET = 0.5;

const CORPORA = ['optout-dev.json', 'sensitive-dev.json'] as const;

/** Every text of every corpus; throws, naming the path, when one is missing or empty. */
export function corpusTexts(): string[] {
  return CORPORA.flatMap((name) => {
    const items = loadCorpus(name);
    if (items === null || items.length === 0) {
      throw new Error(
        `compliance bench: corpus ${corpusPath(name)} is ${items === null ? 'missing' : 'empty'}; ` +
          'the figure is only meaningful over the full corpora (set CORPORA_DIR to the folder that holds them)',
      );
    }
    return items.map((i) => i.text);
  });
}

/** Runs `fn` over `texts` repeatedly for about `ms` milliseconds; returns messages per second. */
export function throughput(texts: readonly string[], fn: (text: string) => number, ms: number): number {
  let sink = 0;
  for (const t of texts) sink += fn(t); // warm-up
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const t of texts) sink += fn(t);
    count += texts.length;
    elapsed = performance.now() - start;
  }
  if (sink < 0) throw new Error('unreachable');
  return (count / elapsed) * 1000;
}

/** Digit runs of 13 to 24 characters, spaces and dashes included: card numbers as people type them. */
const DIGIT_RUN = /\d[\d -]{11,22}\d/g;

/** The yardstick: one linear pass of a compiled digit-run regex, counting what it finds. */
export function digitRuns(text: string): number {
  let n = 0;
  for (const _ of text.matchAll(DIGIT_RUN)) n++;
  return n;
}

export interface ComplianceResults extends Record<string, number | boolean | string> {
  corpusTexts: number;
  yardstick: string;
  baselineMessagesPerSecond: number;
  classifierMessagesPerSecond: number;
  scannerMessagesPerSecond: number;
  classifierRatio: number;
  scannerRatio: number;
  scannerTarget: number;
  scannerPass: boolean;
  /** The scanner ÷ the yardstick over the texts it finds something in, and over the others (detail). */
  scannerRatioTextsWithFindings: number;
  scannerRatioTextsWithout: number;
  decisionsPerSecond: number;
}

export async function runComplianceBench(): Promise<{ lines: string[]; results: ComplianceResults }> {
  const corpus = corpusTexts();
  const seconds = Number(process.env.BENCH_SECONDS ?? '') || 2;
  const phaseMs = Math.min(3000, Math.max(300, (seconds * 1000) / 3));

  const baseline = throughput(corpus, digitRuns, phaseMs);
  const classifier = throughput(
    corpus,
    (t) => classifyInbound(t, { currentlyOptedOut: false }).reason.length,
    phaseMs,
  );
  const scanner = throughput(corpus, (t) => scanText(t).findings.length, phaseMs);
  // Detail (#20): where the scanner's time goes, texts it finds something in against the rest,
  // each against the yardstick over the same texts. Not part of the figure or its target.
  const flagged = corpus.filter((t) => scanText(t).findings.length > 0);
  const clean = corpus.filter((t) => scanText(t).findings.length === 0);
  const detailMs = Math.max(200, phaseMs / 3);
  const ratioOver = (texts: string[]) =>
    throughput(texts, (t) => scanText(t).findings.length, detailMs) / throughput(texts, digitRuns, detailMs);
  const flaggedRatio = ratioOver(flagged);
  const cleanRatio = ratioOver(clean);
  const decisions = decisionsPerSecond(phaseMs);

  const scannerRatio = scanner / baseline;
  const results: ComplianceResults = {
    corpusTexts: corpus.length,
    yardstick: DIGIT_RUN.toString(),
    baselineMessagesPerSecond: baseline,
    classifierMessagesPerSecond: classifier,
    scannerMessagesPerSecond: scanner,
    classifierRatio: classifier / baseline,
    scannerRatio,
    scannerTarget: SCANNER_TARGET,
    scannerPass: scannerRatio >= SCANNER_TARGET,
    scannerRatioTextsWithFindings: flaggedRatio,
    scannerRatioTextsWithout: cleanRatio,
    decisionsPerSecond: decisions,
  };
  const num = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `=== Compliance engine: messages/second over all ${corpus.length} corpus texts vs one ${DIGIT_RUN} matchAll pass ===`,
    `  yardstick digit runs  ${num(baseline).padStart(14)} msg/s`,
    `  classifyInbound       ${num(classifier).padStart(14)} msg/s   ratio ${results.classifierRatio.toFixed(4)} (info)`,
    `  scanText              ${num(scanner).padStart(14)} msg/s   ratio ${scannerRatio.toFixed(4)}, target >= ${SCANNER_TARGET} ${results.scannerPass ? 'PASS' : 'FAIL'}`,
    `    of which ${flagged.length} texts with findings   ratio ${flaggedRatio.toFixed(4)}; ${clean.length} without   ratio ${cleanRatio.toFixed(4)} (detail)`,
    `  send decision facts   ${num(decisions).padStart(14)} decisions/s (number check, zones, quiet hours, scan, decideOutbound)`,
  ];
  return { lines, results };
}
