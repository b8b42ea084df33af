import { readFileSync } from 'node:fs';

/** A place where an error is dropped without a comment saying why that is safe. */
export interface SwallowedError {
  file: string;
  line: number;
}

// A rejection turned into a bare fallback value (undefined, null, false, 0, '', [] or {}) with no look at the
// error, or an empty catch block.
const swallow =
  /\.catch\(\(\) => (undefined|null|false|0|''|""|\[\]|\{\})\)|\.catch\(\(\) => \{\s*\}\)|catch(\s*\([^)]*\))?\s*\{\s*\}/;
// A reason on the same or the previous line makes the drop deliberate rather than silent.
const reason = /\/\/\s*best effort:/;

/** Finds unexplained swallowed errors in one file's text. */
export function findSwallowedErrors(file: string, text: string): SwallowedError[] {
  const lines = text.split('\n');
  return lines.flatMap((current, index) => {
    if (!swallow.test(current)) return [];
    if (reason.test(current) || reason.test(lines[index - 1] ?? '')) return [];
    return [{ file, line: index + 1 }];
  });
}

/** Reads and checks files given by repo-relative path. */
export function scanSwallowedErrors(root: string, files: string[]): SwallowedError[] {
  return files.flatMap((file) => findSwallowedErrors(file, readFileSync(`${root}/${file}`, 'utf8')));
}
