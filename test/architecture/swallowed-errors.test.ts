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

// TODO #14: today's unexplained drops, per file. Each must be handled or given a `// best effort:` reason;
// the numbers may only go down, and a file not listed here may hold none.
const baseline: Record<string, number> = {
  'extension/components/ContactView.tsx': 2,
  'extension/components/NotificationPrefs.tsx': 1,
  'extension/components/OptionsForm.tsx': 7,
  'extension/components/PanelApp.tsx': 1,
  'extension/components/SsoSecondFactor.tsx': 1,
  'extension/entrypoints/background/index.ts': 8,
  'extension/lib/local-store.ts': 1,
  'extension/lib/panel-store.ts': 1,
  'extension/lib/relay-client.ts': 1,
  'extension/lib/sso.ts': 4,
};

describe('swallowed errors', () => {
  it('no file drops more errors silently than the baseline allows', () => {
    const files = ['server', 'crm-plugins', 'extension'].flatMap((folder) => sources(join(root, folder)));
    const counts = new Map<string, number>();
    for (const { file } of scanSwallowedErrors(root, files)) counts.set(file, (counts.get(file) ?? 0) + 1);
    const over = [...counts]
      .filter(([file, count]) => count > (baseline[file] ?? 0))
      .map(([file, count]) => `${file}: ${count}`);
    expect(over).toEqual([]);
  });

  it('flags a bare .catch(() => undefined) and an empty catch block, and accepts a stated reason', () => {
    const text = [
      'send().catch(() => undefined);',
      'try { go(); } catch {}',
      '// best effort: the tab may already be closed',
      'close().catch(() => undefined);',
    ].join('\n');
    expect(findSwallowedErrors('extension/lib/x.ts', text)).toEqual([
      { file: 'extension/lib/x.ts', line: 1 },
      { file: 'extension/lib/x.ts', line: 2 },
    ]);
  });
});
