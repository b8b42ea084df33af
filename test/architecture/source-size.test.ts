import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  countLines,
  listSourceFiles,
  MAX_FILE_LINES,
  MAX_FUNCTION_LINES,
  measureSource,
  oversizedFiles,
  oversizedFunctions,
} from './source-size.ts';

const root = resolve(__dirname, '../..');
const sizes = listSourceFiles(root, ['contract', 'server', 'crm-plugins', 'extension']).map((file) =>
  measureSource(file, readFileSync(join(root, file), 'utf8')),
);

/** A function of `bodyLines` statements, named `name`, written as the given kind of function. */
function syntheticFunction(
  kind: 'declaration' | 'arrow' | 'method' | 'expression',
  bodyLines: number,
): string {
  const body = Array.from({ length: bodyLines }, (_, i) => `  total += ${i};`).join('\n');
  switch (kind) {
    case 'declaration':
      return `export function longDeclaration(): number {\n  let total = 0;\n${body}\n  return total;\n}\n`;
    case 'arrow':
      return `export const longArrow = (): number => {\n  let total = 0;\n${body}\n  return total;\n};\n`;
    case 'method':
      return `export class Holder {\n  longMethod(): number {\n    let total = 0;\n${body}\n    return total;\n  }\n}\n`;
    case 'expression':
      return `export const handlers = {\n  longExpression: function (): number {\n    let total = 0;\n${body}\n    return total;\n  },\n};\n`;
  }
}

describe('source size', () => {
  it("measures the source tree's files", () => {
    expect(sizes.length).toBeGreaterThan(100);
    expect(sizes.some((s) => s.file.endsWith('.tsx'))).toBe(true);
  });

  it(`no source file is over ${MAX_FILE_LINES} lines`, () => {
    expect(oversizedFiles(sizes)).toEqual([]);
  });

  it(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(oversizedFunctions(sizes)).toEqual([]);
  });

  it('reports a deliberately long file and each kind of long function, with its line count', () => {
    const text = [
      syntheticFunction('declaration', 80),
      syntheticFunction('arrow', 76),
      syntheticFunction('method', 100),
      syntheticFunction('expression', 90),
      'export const short = (n: number): number => n + 1;\n',
      ...Array.from({ length: 120 }, (_, i) => `export const filler${i} = ${i};\n`),
    ].join('');
    const measured = measureSource('server/synthetic.ts', text);
    expect(oversizedFiles([measured])).toEqual([`server/synthetic.ts (${countLines(text)} lines)`]);
    expect(countLines(text)).toBeGreaterThan(MAX_FILE_LINES);
    expect(oversizedFunctions([measured])).toEqual([
      'server/synthetic.ts:1 longDeclaration (84 lines)',
      'server/synthetic.ts:166 longMethod (104 lines)',
      'server/synthetic.ts:272 longExpression (94 lines)',
    ]);
  });

  it('passes a short file and measures functions from their first line, not their doc comment', () => {
    const text = '/**\n * Adds one.\n */\nexport function addOne(n: number): number {\n  return n + 1;\n}\n';
    const measured = measureSource('server/short.ts', text);
    expect(measured.lines).toBe(6);
    expect(measured.functions).toEqual([{ name: 'addOne', line: 4, lines: 3 }]);
    expect(oversizedFiles([measured])).toEqual([]);
    expect(oversizedFunctions([measured])).toEqual([]);
  });
});
