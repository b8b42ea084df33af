import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSwallowedErrors, scanSwallowedErrors } from './swallowed-errors.ts';

const root = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) ? [relative(root, path)] : [];
  });
}

describe('swallowed errors', () => {
  it('no source file drops an error silently: each is handled, reported or given a `// best effort:` reason', () => {
    const files = ['contract', 'server', 'crm-plugins', 'extension'].flatMap((folder) =>
      sources(join(root, folder)),
    );
    const silent = scanSwallowedErrors(root, files).map(({ file, line }) => `${file}:${line}`);
    expect(silent).toEqual([]);
  });

  it('flags a rejection turned into a bare fallback and an empty catch block, and accepts a stated reason', () => {
    const text = [
      'send().catch(() => undefined);',
      'try { go(); } catch {}',
      '// best effort: the tab may already be closed',
      'close().catch(() => undefined);',
      'const me = await load().catch(() => null);',
      'const n = await count().catch(() => 0);',
      'run().catch(() => {});',
    ].join('\n');
    expect(findSwallowedErrors('extension/lib/x.ts', text)).toEqual([
      { file: 'extension/lib/x.ts', line: 1 },
      { file: 'extension/lib/x.ts', line: 2 },
      { file: 'extension/lib/x.ts', line: 5 },
      { file: 'extension/lib/x.ts', line: 6 },
      { file: 'extension/lib/x.ts', line: 7 },
    ]);
  });
});
