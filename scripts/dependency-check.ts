/**
 * `tsx scripts/dependency-check.ts` (CI, issue #13 finding 15): the dependency gate.
 *
 * 1. Offline and authoritative: every package package-lock.json installs is compared with the
 *    vendored advisory list (scripts/data/advisories.json); any match fails the run.
 * 2. Best effort: `npm audit --omit=dev --json` asks the registry; high or critical findings fail
 *    the run, and an unreachable audit endpoint prints "skipped" and changes nothing.
 * 3. An SBOM (CycloneDX, from the lockfile) is written to .artifacts/sbom.cdx.json.
 *
 *   --lockfile <path>   another lockfile (tests)      --no-audit   leave out step 2
 *   --advisories <path> another advisory list         --no-sbom    leave out step 3
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Finding,
  installedPackages,
  matchAdvisories,
  parseAdvisories,
} from './lib/lockfile-advisories.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The registry answers in seconds or not at all; CI must not hang on it. */
const AUDIT_TIMEOUT_MS = 20_000;

const { values } = parseArgs({
  options: {
    lockfile: { type: 'string', default: path.join(ROOT, 'package-lock.json') },
    advisories: { type: 'string', default: path.join(ROOT, 'scripts/data/advisories.json') },
    'no-audit': { type: 'boolean', default: false },
    'no-sbom': { type: 'boolean', default: false },
  },
});

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

function describe(f: Finding): string {
  const where = f.installed.path === `node_modules/${f.installed.name}` ? '' : ` at ${f.installed.path}`;
  return `  ${f.installed.name}@${f.installed.version}${where}${f.installed.dev ? ' (dev)' : ''}: ${f.advisory.id} (${f.advisory.vulnerable}) ${f.advisory.summary}`;
}

function lockfileCheck(): boolean {
  const packages = installedPackages(readJson(values.lockfile));
  const advisories = parseAdvisories(readJson(values.advisories));
  const findings = matchAdvisories(packages, advisories);
  if (findings.length === 0) {
    console.log(
      `dependency-check: lockfile: ${packages.length} packages, none in the ${advisories.length} vendored advisories`,
    );
    return true;
  }
  console.log(`dependency-check: lockfile: ${findings.length} vulnerable package(s):`);
  for (const finding of findings) console.log(describe(finding));
  console.log('dependency-check: upgrade them, or replace them through "overrides" in package.json');
  return false;
}

interface AuditReport {
  message?: unknown;
  metadata?: { vulnerabilities?: Record<string, number> };
}

function parseAuditReport(stdout: string): AuditReport | null {
  try {
    const value: unknown = JSON.parse(stdout);
    return typeof value === 'object' && value !== null ? (value as AuditReport) : null;
  } catch {
    return null;
  }
}

/** npm audit's report, or why there is none. */
function registryAudit(): boolean {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
    cwd: path.dirname(values.lockfile),
    encoding: 'utf8',
    timeout: AUDIT_TIMEOUT_MS,
  });
  const report = parseAuditReport(run.stdout);
  const counts = report?.metadata?.vulnerabilities;
  // npm exits 1 both for "found vulnerabilities" and for "could not ask": only a report tells which.
  if (run.error !== undefined || counts === undefined) {
    // npm --json reports its own failure as {"message": "405 Method Not Allowed - POST …"}.
    const reason =
      run.error?.message ??
      (typeof report?.message === 'string' ? report.message : null) ??
      (run.stderr.trim().split('\n')[0] || `exit ${run.status}`);
    console.log(`dependency-check: npm audit: skipped: registry audit endpoint unreachable (${reason})`);
    return true;
  }
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  console.log(
    `dependency-check: npm audit: ${Object.entries(counts)
      .map(([level, n]) => `${n} ${level}`)
      .join(', ')}`,
  );
  if (serious > 0)
    console.log('dependency-check: npm audit: high or critical findings: run `npm audit --omit=dev`');
  return serious === 0;
}

function writeSbom(): boolean {
  const out = path.join(ROOT, '.artifacts', 'sbom.cdx.json');
  // From the lockfile: what `npm ci` installs, whatever state node_modules is in.
  const run = spawnSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'], {
    cwd: path.dirname(values.lockfile),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    console.log(
      `dependency-check: sbom: npm sbom failed: ${run.stderr.trim().split('\n').slice(0, 3).join(' / ')}`,
    );
    return false;
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, run.stdout);
  console.log(`dependency-check: sbom: written to ${path.relative(ROOT, out)}`);
  return true;
}

const results = [lockfileCheck()];
if (!values['no-audit']) results.push(registryAudit());
if (!values['no-sbom']) results.push(writeSbom());
process.exitCode = results.every(Boolean) ? 0 : 1;
