/** Latency percentiles of one measured phase, in milliseconds. */
export interface LatencySummary {
  samples: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Summarises raw latency samples. The phases are bounded (seconds, tens of thousands of
 * samples), so keeping every sample and sorting once is exact and cheaper than a histogram.
 */
export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { samples: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(samples).sort();
  // Nearest-rank percentile: always one of the observed values, never interpolated.
  const at = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    samples: sorted.length,
    mean: sum / sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}
