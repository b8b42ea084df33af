/**
 * Compliance engine throughput: messages per second of the opt-out classifier and of the
 * sensitive-content scanner over the corpus texts, each as a ratio against a bare regex pass
 * (`/\d/.test`) over the same texts measured in the same run, so the figure means the same on
 * a laptop and on CI. A ratio of 0.05 reads "one twentieth of the speed of a trivial regex".
 */
import { classifyInbound } from '../../server/compliance/classifier.ts';
import { scanText } from '../../server/compliance/content-scanner.ts';
import { loadCorpus } from '../compliance/corpus-metrics.ts';

const FALLBACK_TEXTS = [
  'STOP',
  'please stop texting me',
  'Can you stop by at 3?',
  'my card is 4242424242424242',
];

/** Runs `fn` over `texts` repeatedly for about `ms` milliseconds; returns messages per second. */
function throughput(texts: readonly string[], fn: (text: string) => unknown, ms: number): number {
  let sink = 0;
  for (const t of texts) if (fn(t)) sink++; // warm-up
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const t of texts) if (fn(t)) sink++;
    count += texts.length;
    elapsed = performance.now() - start;
  }
  if (sink < 0) throw new Error('unreachable');
  return (count / elapsed) * 1000;
}

export async function runComplianceBench(): Promise<{ lines: string[]; results: Record<string, number> }> {
  const optout = loadCorpus('optout-dev.json')?.map((i) => i.text);
  const sensitive = loadCorpus('sensitive-dev.json')?.map((i) => i.text);
  const texts = [...(optout ?? []), ...(sensitive ?? [])];
  const corpus = texts.length > 0 ? texts : FALLBACK_TEXTS;
  const seconds = Number(process.env.BENCH_SECONDS ?? '') || 2;
  const phaseMs = Math.min(3000, Math.max(300, (seconds * 1000) / 3));
  const digit = /\d/;

  const baseline = throughput(corpus, (t) => digit.test(t), phaseMs);
  const classifier = throughput(
    corpus,
    (t) => classifyInbound(t, { currentlyOptedOut: false }).label,
    phaseMs,
  );
  const scanner = throughput(corpus, (t) => scanText(t).findings.length, phaseMs);

  const results = {
    baselineMessagesPerSecond: baseline,
    classifierMessagesPerSecond: classifier,
    scannerMessagesPerSecond: scanner,
    classifierRatio: classifier / baseline,
    scannerRatio: scanner / baseline,
  };
  const num = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `=== Compliance engine: messages/second over ${corpus.length} corpus texts vs a bare /\\d/.test pass ===`,
    `  baseline /\\d/.test   ${num(baseline).padStart(14)} msg/s`,
    `  classifyInbound      ${num(classifier).padStart(14)} msg/s   ratio ${results.classifierRatio.toFixed(4)}`,
    `  scanText             ${num(scanner).padStart(14)} msg/s   ratio ${results.scannerRatio.toFixed(4)}`,
  ];
  if (texts.length === 0) lines.push('  (corpora not found: measured a small built-in sample)');
  return { lines, results };
}
