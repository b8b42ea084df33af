/**
 * The compliance section of `npm run bench` alone (#20): `npx tsx test/bench/run-compliance.ts`.
 * It needs no database, so it can be re-run in seconds after a change to the scanner or the
 * quiet-hours rules. Exit code 1 when the bench could not run (a corpus is missing, say).
 */
import { runComplianceBench } from './compliance-bench.ts';

try {
  const { lines } = await runComplianceBench();
  for (const line of lines) console.log(line);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
