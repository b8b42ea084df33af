import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  installedPackages,
  matchAdvisories,
  parseAdvisories,
} from '../../scripts/lib/lockfile-advisories.ts';
import { satisfies } from '../../scripts/lib/version-range.ts';

/** Issue #13, finding 15: CI fails when the lockfile installs a version with a known advisory. */

const ROOT = path.resolve(import.meta.dirname, '../..');
const ADVISORIES = parseAdvisories(
  JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts/data/advisories.json'), 'utf8')),
);

/** A lockfile (v3) with the given packages under node_modules/. */
const lockWith = (packages: Record<string, Record<string, unknown>>) => ({
  name: 'fixture',
  lockfileVersion: 3,
  packages: { '': { name: 'fixture' }, ...packages },
});

describe('version ranges', () => {
  it.each([
    ['2.3.3', '<2.5.4 || >=3.0.0 <3.0.4 || >=4.0.0 <4.0.4', true],
    ['2.5.4', '<2.5.4 || >=3.0.0 <3.0.4 || >=4.0.0 <4.0.4', false],
    ['3.0.3', '<2.5.4 || >=3.0.0 <3.0.4 || >=4.0.0 <4.0.4', true],
    ['4.0.4', '<2.5.4 || >=3.0.0 <3.0.4 || >=4.0.0 <4.0.4', false],
    ['4.0.4-beta.1', '>=4.0.0 <4.0.4', true],
    ['4.1.2', '<4.1.3', true],
    ['5.1.2', '<4.1.3', false],
    ['2.88.2', '<=2.88.2', true],
    ['1.2.3', '*', true],
    ['1.2.3', '= 1.2.3', true],
  ])('%s in "%s" is %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it('refuses a range outside the subset it reads, rather than matching nothing', () => {
    expect(() => satisfies('1.0.0', '^1.0.0')).toThrow(/unsupported version range/);
  });
});

describe('the lockfile check', () => {
  it("finds plivo's old request, form-data 2.3.3 and tough-cookie 2.5.0", () => {
    const lock = lockWith({
      'node_modules/plivo': { version: '4.79.0' },
      'node_modules/plivo/node_modules/request': { version: '2.88.2' },
      'node_modules/form-data': { version: '2.3.3' },
      'node_modules/plivo/node_modules/tough-cookie': { version: '2.5.0' },
    });
    const findings = matchAdvisories(installedPackages(lock), ADVISORIES);
    expect(findings.map((f) => `${f.installed.path} ${f.advisory.id}`).sort()).toEqual([
      'node_modules/form-data GHSA-fjxv-7rqg-78g4',
      'node_modules/plivo/node_modules/request GHSA-p8p7-x288-28g6',
      'node_modules/plivo/node_modules/tough-cookie GHSA-72xf-g2v4-qvf3',
    ]);
  });

  it('judges an aliased override by the package it installs, not by its folder', () => {
    const lock = lockWith({
      'node_modules/plivo/node_modules/request': { name: '@cypress/request', version: '4.0.1' },
    });
    expect(matchAdvisories(installedPackages(lock), ADVISORIES)).toEqual([]);
  });

  it("passes the project's own lockfile", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
    expect(matchAdvisories(installedPackages(lock), ADVISORIES)).toEqual([]);
  });
});

describe('scripts/dependency-check.ts', () => {
  const run = (lock: unknown) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dependency-check-'));
    try {
      fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock));
      return spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(ROOT, 'scripts/dependency-check.ts'),
          '--lockfile',
          path.join(dir, 'package-lock.json'),
          '--no-audit',
          '--no-sbom',
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('fails CI on a vulnerable lockfile entry and names the advisory', () => {
    const result = run(lockWith({ 'node_modules/form-data': { version: '4.0.3' } }));
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toContain('form-data@4.0.3');
    expect(result.stdout).toContain('GHSA-fjxv-7rqg-78g4');
  });

  it('passes a lockfile with only fixed versions', () => {
    const result = run(lockWith({ 'node_modules/form-data': { version: '4.0.4' } }));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/none in the \d+ vendored advisories/);
  });
});
