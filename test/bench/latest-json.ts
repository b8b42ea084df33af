import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A section run alone (`BENCH_ONLY=…`) writes its figures into bench-results/latest.json under
 * `benchmarks[section]`, leaving the other sections' figures of the last full run as they were.
 */
export async function mergeIntoLatest(section: string, report: unknown): Promise<void> {
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench-results/latest.json');
  await fs.mkdir(path.dirname(out), { recursive: true });
  let previous: { benchmarks?: Record<string, unknown> } = {};
  try {
    previous = JSON.parse(await fs.readFile(out, 'utf8')) as typeof previous;
  } catch {
    // best effort: no earlier full run to keep figures from; this section's are written alone.
    previous = {};
  }
  const json = {
    ...previous,
    [`${section}RunAt`]: new Date().toISOString(),
    benchmarks: { ...(previous.benchmarks ?? {}), [section]: report },
  };
  await fs.writeFile(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), out)}`);
}
