// @vitest-environment node

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExtensionInto, ROOT } from '../e2e/extension-harness.ts';

const run = promisify(execFile);

/**
 * What web-ext reports that is not ours to fix, each with why. Preact's renderer assigns innerHTML
 * only for `dangerouslySetInnerHTML`, which the extension never uses (checked below).
 */
const ACCEPTED_WARNINGS: Array<{ code: string; file: RegExp; why: string }> = [
  {
    code: 'UNSAFE_VAR_ASSIGNMENT',
    file: /^chunks\/[\w-]+\.js$/,
    why: "Preact's dangerouslySetInnerHTML support, unused by the extension",
  },
];

interface LintMessage {
  code: string;
  file?: string;
  message: string;
}

interface LintReport {
  count: number;
  summary: { errors: number; warnings: number; notices: number };
  errors: LintMessage[];
  warnings: LintMessage[];
}

/** Every source file of the extension (TypeScript and TSX), for the checks that read them. */
function extensionSources(dir = join(ROOT, 'extension')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return extensionSources(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The names inside a zip file. */
async function zipListing(file: string): Promise<string[]> {
  const { stdout } = await run('unzip', ['-Z1', file], { maxBuffer: 8 * 1024 * 1024 });
  return stdout.split('\n').filter((line) => line !== '' && !line.endsWith('/'));
}

describe('store packages', { timeout: 120_000 }, () => {
  let outDir = '';
  let firefoxBuild = '';
  let lint: LintReport;
  let zips: string[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'store-packages-'));
    firefoxBuild = await buildExtensionInto(join(outDir, 'build'), 'firefox');
    // web-ext exits non-zero when it finds errors; the JSON report is on stdout either way.
    const lintRun = await run(
      join(ROOT, 'node_modules/.bin/web-ext'),
      ['lint', '--source-dir', firefoxBuild, '--output', 'json', '--no-input', '--no-config-discovery'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    lint = JSON.parse(lintRun.stdout) as LintReport;
    // `npm run zip`'s two steps, into a folder of their own (WXT's zip takes the same inline outDir).
    const script =
      "const { zip } = await import('wxt');" +
      'for (const browser of ["chrome", "firefox"]) await zip({ root: process.argv[1], browser, outDir: process.argv[2] });';
    await run(process.execPath, ['--input-type=module', '-e', script, ROOT, join(outDir, 'zip')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    zips = (await readdir(join(outDir, 'zip'))).filter((name) => name.endsWith('.zip'));
  }, 120_000);

  afterAll(async () => {
    if (outDir !== '') await rm(outDir, { recursive: true, force: true });
  });

  it('passes web-ext lint (what addons.mozilla.org runs) with no error and no unexplained warning', () => {
    expect(lint.summary.errors, JSON.stringify(lint.errors, null, 2)).toBe(0);
    const unexplained = lint.warnings.filter(
      (w) => !ACCEPTED_WARNINGS.some((a) => a.code === w.code && a.file.test(w.file ?? '')),
    );
    expect(unexplained.map((w) => `${w.code} ${w.file}: ${w.message}`)).toEqual([]);
  });

  it('never uses dangerouslySetInnerHTML, so the innerHTML web-ext sees in Preact stays unused', () => {
    const users = extensionSources().filter((file) =>
      readFileSync(file, 'utf8').includes('dangerouslySetInnerHTML'),
    );
    expect(users.map((file) => relative(ROOT, file))).toEqual([]);
  });

  it('packages Chrome, Firefox and the sources Firefox reviewers rebuild from', () => {
    expect(zips.sort()).toEqual([
      'crm-texting-0.1.0-chrome.zip',
      'crm-texting-0.1.0-firefox.zip',
      'crm-texting-0.1.0-sources.zip',
    ]);
  });

  it('puts a production build with its manifest at the root of each browser package', async () => {
    for (const browser of ['chrome', 'firefox']) {
      const files = await zipListing(join(outDir, 'zip', `crm-texting-0.1.0-${browser}.zip`));
      expect(files).toContain('manifest.json');
      expect(files).toContain('panel.html');
      expect(files).toContain('background.js');
      // Production builds carry no source maps and no sandbox-only pages.
      expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    }
  });

  it('puts what the extension is built from in the sources package, and nothing else', async () => {
    const files = await zipListing(join(outDir, 'zip', 'crm-texting-0.1.0-sources.zip'));
    for (const needed of ['package.json', 'package-lock.json', 'wxt.config.ts', 'tsconfig.json', 'README.md'])
      expect(files).toContain(needed);
    // Everything the extension imports from outside extension/ is there to rebuild it.
    const outside = new Set<string>();
    for (const file of extensionSources()) {
      for (const m of readFileSync(file, 'utf8').matchAll(
        /from '((?:\.\.\/)+(?:contract|server)\/[^']+)'/g,
      )) {
        const target = relative(ROOT, join(file, '..', m[1] ?? ''));
        outside.add(target);
      }
    }
    expect(outside.size).toBeGreaterThan(0);
    for (const target of outside) expect(files).toContain(target);
    expect(files.some((f) => f.startsWith('extension/entrypoints/'))).toBe(true);
    const forbidden = files.filter((f) =>
      /^(test|scripts|crm-plugins|node_modules|\.output|\.artifacts|\.env)|^server\/(?!compliance\/)|(^|\/)\.env/.test(
        f,
      ),
    );
    expect(forbidden).toEqual([]);
  });
});
