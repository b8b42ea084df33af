/**
 * `npm run test:clock` (issue #12): runs the server, auth and compliance suites with the whole
 * process tree's clock moved by libfaketime to instants where time bugs live, so no test can
 * depend on today's date, the hour CI runs at, or the machine's time zone.
 *
 * faketime's offset form (`+Ns`) is used, not an absolute instant: every process started later (a
 * spawned relay, a test worker) then agrees on the time, and the clock still advances. PostgreSQL
 * runs outside the faked tree, so on it the database's clock and the relay's disagree by the
 * offset: exactly what server/clock.ts says must never matter.
 *
 * A file whose tests fail is run once more at the same offset: a failure that does not come back is
 * listed as FLAKY at the end (a defect to fix, not to ignore) without failing the run. Each
 * instant's failures are repeated at the very end, since CI shows a log's tail.
 *
 *   npm run test:clock                 every instant below
 *   npm run test:clock -- dst-spring   one of them, by name
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface Instant {
  name: string;
  what: string;
  /** The faked start, or null for the real time (a zone-only run). */
  at: string | null;
  /** The machine's time zone for the run; UTC otherwise, so results do not depend on the host's. */
  tz: string;
  /** One engine per instant keeps the five runs within CI's time; together they cover both. */
  engine: 'postgres' | 'pglite';
}

const INSTANTS: Instant[] = [
  {
    name: 'summer-afternoon',
    what: 'a summer weekday afternoon (Wednesday 16:00 in New York)',
    at: '2027-07-14T20:00:00Z',
    tz: 'UTC',
    engine: 'postgres',
  },
  {
    name: 'winter-sunday-night',
    what: 'a winter Sunday at 23:30 US Eastern',
    at: '2027-01-18T04:30:00Z',
    tz: 'America/New_York',
    engine: 'pglite',
  },
  {
    name: 'dst-spring',
    what: 'the US change to daylight saving time (02:00 New York, 2027-03-14), crossed during the run',
    at: '2027-03-14T06:59:00Z',
    tz: 'America/New_York',
    engine: 'postgres',
  },
  {
    name: 'new-year',
    what: '31 December 23:59:30 UTC, crossing into the new year during the run',
    at: '2027-12-31T23:59:30Z',
    tz: 'UTC',
    engine: 'pglite',
  },
  {
    name: 'auckland',
    what: 'the real time, with the machine in Pacific/Auckland',
    at: null,
    tz: 'Pacific/Auckland',
    engine: 'postgres',
  },
];

/**
 * Suites that never read a clock for a decision (argument parsing, input fuzzing, the route ×
 * role matrix, signature bytes, process start-up, the chaos soak, which alone takes a minute) or
 * that pin every instant they judge.
 * They run in `npm test`; leaving them out keeps the five clock runs within five minutes of CI.
 */
const TIMELESS = [
  'test/server/cli.test.ts',
  'test/server/start.test.ts',
  'test/server/config.test.ts',
  'test/server/fuzz-bad-input.test.ts',
  'test/server/route-access.test.ts',
  'test/server/plivo-chaos.test.ts',
  'test/server/plivo-provider.test.ts',
  'test/server/plivo-signature.test.ts',
  'test/server/clock-rule.test.ts',
  // Delivery mechanics between processes: fan-out, provider callbacks, deactivation reaching a
  // second relay. Ordered by ids and NOTIFY, never by a clock.
  'test/server/events-fanout.test.ts',
  'test/server/status-callbacks.test.ts',
  'test/auth/cross-process.test.ts',
  // Scans a fixed year of instants itself.
  'test/server/demo-recipients.test.ts',
  'test/compliance/cli.test.ts',
];

const root = path.resolve(import.meta.dirname, '..');

function faketimeAvailable(): boolean {
  return spawnSync('faketime', ['-f', '+0s', 'true'], { stdio: 'ignore' }).status === 0;
}

/** How one instant's run ended: its failure lines (from test/summary-reporter.ts) when it failed. */
interface Outcome {
  ok: boolean;
  failures: string[];
}

function runVitest(instant: Instant, files: readonly string[]): Outcome {
  const offset = instant.at === null ? null : Math.round((Date.parse(instant.at) - Date.now()) / 1000);
  const vitest = [
    path.join(root, 'node_modules', '.bin', 'vitest'),
    'run',
    ...files,
    // Files share a worker's loaded modules (no per-file re-import): a third faster, and each
    // file still builds its own database and relay. npm test keeps full isolation.
    '--no-isolate',
    ...TIMELESS.flatMap((file) => ['--exclude', file]),
  ];
  const [command, ...args] =
    offset === null ? vitest : ['faketime', '-f', `${offset >= 0 ? '+' : ''}${offset}s`, ...vitest];
  const failuresFile = path.join(mkdtempSync(path.join(tmpdir(), 'test-clock-')), 'failures.txt');
  const result = spawnSync(command as string, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TZ: instant.tz, TEST_ENGINES: instant.engine, TEST_FAILURES_FILE: failuresFile },
  });
  const failures = existsSync(failuresFile)
    ? readFileSync(failuresFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
  if (result.error !== undefined) failures.push(`could not run vitest: ${result.error.message}`);
  if (result.signal !== null) failures.push(`vitest was killed by ${result.signal}`);
  else if (result.status !== 0 && failures.length === 0)
    failures.push(`vitest exited with ${result.status} without naming a failure (see its output above)`);
  return { ok: result.status === 0, failures };
}

/** The test files named by failure lines ("FAILED <file> > <test>: …"). */
const failedFiles = (failures: readonly string[]): string[] => [
  ...new Set(failures.flatMap((line) => /^FAILED (\S+\.test\.tsx?)/.exec(line)?.[1] ?? [])),
];

/**
 * One instant: the suites once and, when some tests fail, those files once more at the same
 * offset. A failure that does not come back is reported as flaky at the end (to be fixed, never
 * ignored) without failing CI; one that comes back fails the run.
 */
function run(instant: Instant): { ok: boolean; report: string[] } {
  console.log(`\n=== clock: ${instant.name}: ${instant.what}; TZ=${instant.tz}; ${instant.engine} ===`);
  const first = runVitest(instant, ['test/server', 'test/auth', 'test/compliance']);
  if (first.ok) return { ok: true, report: [] };
  const files = failedFiles(first.failures);
  const header = `${instant.name}:`;
  if (files.length === 0 || first.failures.some((line) => !line.startsWith('FAILED')))
    return { ok: false, report: [header, ...first.failures] };
  console.log(`\n=== clock: ${instant.name}: running the ${files.length} failed file(s) again ===`);
  const again = runVitest(instant, files);
  if (again.ok)
    return { ok: true, report: [`${instant.name} (FLAKY: failed once, passed again):`, ...first.failures] };
  return { ok: false, report: [header, ...first.failures, 'and again:', ...again.failures] };
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !INSTANTS.some((i) => i.name === name));
if (unknown.length > 0) {
  console.error(
    `test:clock: unknown instant ${unknown.join(', ')}; choose from ${INSTANTS.map((i) => i.name).join(', ')}`,
  );
  process.exit(2);
}
if (!faketimeAvailable()) {
  console.error('test:clock needs libfaketime: apt-get install -y faketime (.ci/run installs it).');
  process.exit(2);
}
const chosen = wanted.length === 0 ? INSTANTS : INSTANTS.filter((i) => wanted.includes(i.name));
const outcomes = chosen.map((instant) => ({ instant, ...run(instant) }));
const failed = outcomes.filter((o) => !o.ok).map((o) => o.instant.name);
for (const o of outcomes) if (o.report.length > 0) console.log(`\n${o.report.join('\n  ')}`);
console.log(
  failed.length === 0
    ? `\nclock: the suites passed at all ${chosen.length} instants`
    : `\nclock: FAILED at ${failed.join(', ')}`,
);
process.exit(failed.length === 0 ? 0 : 1);
