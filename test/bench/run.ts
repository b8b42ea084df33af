/**
 * `npm run bench`: runs every benchmark in order, prints one table per engine and a summary,
 * and writes bench-results/latest.json. Targets are ratios against a baseline measured in the
 * same run, so the figures mean the same on a laptop and on CI. Exit code 0 when the harness
 * ran, whatever the ratios (it is a report); 1 only when a benchmark crashed.
 *
 * Environment: DATABASE_URL (PostgreSQL server to create the bench database on; default the
 * local test server), BENCH_SECONDS (measured seconds per side and engine, default 10).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
// test/helpers/db.ts reads DATABASE_URL when it is first imported, so the default has to be in
// place before the benchmark modules load: hence the dynamic import below, not a static one.
process.env.DATABASE_URL ??= DEFAULT_POSTGRES_URL;
const { benchSendThroughput } = await import('./send-throughput.ts');
type Report = Awaited<ReturnType<typeof benchSendThroughput>>;
type Measured = Extract<Report, { status: 'measured' }>;

const POSTGRES_TARGET = 0.5;

function seconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 1 || value > 60)
    throw new Error(`${name} must be 1 to 60 seconds, got "${raw}"`);
  return value;
}

const durationMs = seconds('BENCH_SECONDS', 10) * 1000;
// Long enough for JIT, prepared plans and the pool to settle; short enough to keep the run
// (both engines, all phases) well under five minutes.
const warmupMs = Math.min(3000, durationMs / 2);

const num = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number): string => `${num(n, n < 10 ? 2 : 1)} ms`;

function row(cells: string[], widths: number[]): string {
  return cells
    .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join('  ');
}

function printReport(report: Measured): void {
  const title = report.engine === 'postgres' ? 'PostgreSQL' : 'PGlite';
  console.log(
    `\n=== ${title}: send throughput vs bare INSERT loop (${report.database}) ===\n` +
      `    concurrency ${report.concurrency}; ${report.warmupMs / 1000} s warm-up, then ${report.durationMs / 1000} s per side ` +
      `in ${report.rounds} alternating rounds`,
  );
  const widths = [38, 14, 10, 10, 9, 7, 6];
  console.log(row(['phase', 'throughput', 'p50', 'p99', 'ok', 'failed', 'ratio'], widths));
  console.log(
    row(
      widths.map((w) => '-'.repeat(w)),
      widths,
    ),
  );
  const b = report.baseline;
  const cells = [
    `${num(b.perSecond)} rows/s`,
    ms(b.latency.p50),
    ms(b.latency.p99),
    num(b.operations),
    num(b.errors),
  ];
  console.log(row(['baseline: single-row INSERT loop', ...cells, '1.00'], widths));
  for (const send of [report.send, report.sendWithWorker]) {
    if (send === null) continue;
    const failed = Object.values(send.unexpected).reduce((total, n) => total + n, 0) + send.errors;
    const label = send.workerEnabled
      ? 'POST /v1/messages, worker ON (info)'
      : 'POST /v1/messages, worker OFF';
    const sendCells = [
      `${num(send.perSecond)} req/s`,
      ms(send.latency.p50),
      ms(send.latency.p99),
      num(send.operations),
    ];
    console.log(row([label, ...sendCells, num(failed), num(send.ratio, 2)], widths));
  }
  const rounds = (rates: number[]) => rates.map((r) => num(r)).join(' / ');
  console.log(
    `    per round: baseline ${rounds(b.roundsPerSecond)} rows/s; send ${rounds(report.send.roundsPerSecond)} req/s`,
  );
  console.log(
    '    The ratio uses the worker-OFF line: it times the accept path (auth, consent gate, one transaction\n' +
      '    storing message, status, outbox job and event), not delivery. Every response was checked for 202\n' +
      '    and every 202 for its message row.',
  );
  const target = report.target === null ? 'n/a' : `>= ${num(report.target, 2)}`;
  let verdict = 'informational (no target on this engine)';
  if (report.pass === true) verdict = 'PASS';
  if (report.pass === false)
    verdict = report.problems.length > 0 ? 'FAIL (the run had errors, see below)' : 'FAIL';
  console.log(`    ratio send/baseline ${num(report.send.ratio, 2)}   target ${target}   ${verdict}`);
  for (const problem of report.problems) console.log(`    !! ${problem}`);
  for (const note of report.notes) console.log(`    note: ${note}`);
}

async function main(): Promise<number> {
  const startedAt = new Date();
  console.log(
    `relay bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
      `${durationMs / 1000} s measured per side; relay, load generator and baseline share this process, loopback only`,
  );
  const plans = [
    // PGlite is one connection in this process: more lanes only queue longer.
    { engine: 'pglite' as const, concurrency: 8, target: null },
    { engine: 'postgres' as const, concurrency: 16, target: POSTGRES_TARGET },
  ];
  const reports: Report[] = [];
  const crashes: { engine: string; error: string }[] = [];
  for (const plan of plans) {
    // Warm-ups for baseline, send and worker-on, both sides measured, the worker-on phase, set-up.
    const expectedS = Math.round((3 * warmupMs + 3 * durationMs) / 1000) + 5;
    console.log(`\n... ${plan.engine}: running (about ${expectedS} s)`);
    try {
      const report = await benchSendThroughput({
        ...plan,
        warmupMs,
        durationMs,
        rounds: 3,
        workerOnDurationMs: durationMs,
      });
      reports.push(report);
      if (report.status === 'skipped') console.log(`\n=== ${plan.engine}: SKIPPED: ${report.reason} ===`);
      else printReport(report);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      crashes.push({ engine: plan.engine, error: message });
      console.error(`\n=== ${plan.engine}: benchmark crashed ===\n${message}`);
    }
  }

  console.log('\n=== summary ===');
  for (const report of reports) {
    if (report.status === 'skipped') {
      console.log(`  ${report.engine.padEnd(9)} skipped: ${report.reason}`);
      continue;
    }
    const target = report.target === null ? 'informational' : `target >= ${num(report.target, 2)}`;
    const verdict = report.pass === null ? '' : report.pass ? ' PASS' : ' FAIL';
    console.log(
      `  ${report.engine.padEnd(9)} send ${num(report.send.perSecond)} req/s / baseline ` +
        `${num(report.baseline.perSecond)} rows/s = ${num(report.send.ratio, 2)} (${target})${verdict}`,
    );
  }
  for (const crash of crashes) console.log(`  ${crash.engine.padEnd(9)} CRASHED (see above)`);
  for (const report of reports) {
    if (report.status === 'measured' && report.pass === false) {
      console.log(
        `\n  !!!!!!!! WARNING: ${report.engine} send/baseline ratio ${num(report.send.ratio, 2)} misses the target ` +
          `${num(report.target ?? 0, 2)}${report.problems.length > 0 ? ' or the run had failed requests' : ''} !!!!!!!!`,
      );
    }
  }

  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench-results/latest.json');
  await fs.mkdir(path.dirname(out), { recursive: true });
  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length },
    settings: { warmupMs, durationMs },
    benchmarks: { sendThroughput: reports },
    crashes,
  };
  await fs.writeFile(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), out)}`);
  return crashes.length > 0 ? 1 : 0;
}

process.exitCode = await main();
