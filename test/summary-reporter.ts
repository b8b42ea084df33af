import { writeFileSync } from 'node:fs';
import type { SerializedError } from 'vitest';
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';

/** First line of an error, short enough for a closing summary. */
const headline = (error: { message?: string } | undefined): string =>
  (error?.message ?? 'no message').split('\n')[0]?.slice(0, 300) ?? '';

/** The first error of a file that failed outside its tests: its own, else a suite's (a beforeAll). */
function firstError(module: TestModule): { message?: string } | undefined {
  const own = module.errors()[0];
  if (own !== undefined) return own;
  for (const suite of module.children.allSuites()) {
    const error = suite.errors()[0];
    if (error !== undefined) return error;
  }
  return undefined;
}

/**
 * Prints the plain closing line CI reads ("N passed, N failed, N skipped") after Vitest's own
 * summary, so a run's outcome is visible without parsing Vitest's formatting, and under it each
 * failure in one line (CI shows a log's tail; the details are above). With TEST_FAILURES_FILE set,
 * the same lines go to that file, so a driver running several suites (test:clock) can repeat them
 * at its very end.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError> = [],
    reason: TestRunEndReason = 'passed',
  ): void {
    let passed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed')
          failures.push(`FAILED ${module.moduleId} > ${test.fullName}: ${headline(result.errors?.[0])}`);
        else skipped += 1;
      }
      // A file that failed outside its tests (load, beforeAll): its tests count as skipped.
      const testsFailed = [...module.children.allTests()].some((t) => t.result().state === 'failed');
      if (module.state() === 'failed' && !testsFailed)
        failures.push(`FAILED ${module.moduleId} (outside its tests): ${headline(firstError(module))}`);
    }
    for (const error of unhandledErrors) failures.push(`UNHANDLED ERROR: ${headline(error)}`);
    if (reason === 'interrupted') failures.push('INTERRUPTED: the run was stopped before it finished');
    const failed = failures.filter((line) => line.startsWith('FAILED')).length;
    const lines = [`${passed} passed, ${failed} failed, ${skipped} skipped`, ...failures];
    process.stdout.write(`\n${lines.join('\n')}\n`);
    const file = process.env.TEST_FAILURES_FILE;
    if (file) writeFileSync(file, failures.join('\n'));
  }
}
