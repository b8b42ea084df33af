import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** The house's size limits (#14): past these a unit holds more than one concept. */
export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 80;

/** One function-like node of a source file: where it starts and how many lines it spans. */
export interface FunctionSize {
  name: string;
  line: number;
  lines: number;
}

/** A file's own length and the length of every function in it (nested ones counted on their own too). */
export interface SourceSize {
  file: string;
  lines: number;
  functions: FunctionSize[];
}

// A generator's header says so near the top; such a file is fixed by changing its generator, not by hand.
const generatedMarker = /@generated|auto-generated|do not edit/i;

function isMeasuredSource(name: string): boolean {
  if (!/\.tsx?$/.test(name) || name.endsWith('.d.ts')) return false;
  return !/\.(test|spec)\.tsx?$/.test(name);
}

/** Hand-written source files under `folders` of `root`, as repo-relative paths (dot folders and tests left out). */
export function listSourceFiles(root: string, folders: readonly string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (name === 'node_modules' || name.startsWith('.')) return [];
      if (statSync(path).isDirectory()) return walk(path);
      return isMeasuredSource(name) ? [relative(root, path)] : [];
    });
  return folders.flatMap((folder) => walk(join(root, folder))).filter((file) => !isGenerated(root, file));
}

function isGenerated(root: string, file: string): boolean {
  const head = readFileSync(join(root, file), 'utf8').split('\n', 5).join('\n');
  return generatedMarker.test(head);
}

/** Lines as `wc -l` counts them, plus a last line that lacks its newline. */
export function countLines(text: string): number {
  if (text === '') return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}

function propertyName(name: ts.PropertyName | ts.BindingName, source: ts.SourceFile): string {
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) ? name.text : name.getText(source);
}

/** What a reader would call the function: its own name, or the name it is assigned or passed to. */
function functionName(node: ts.SignatureDeclaration, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name !== undefined) return propertyName(node.name, source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return propertyName(parent.name, source);
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(source).slice(0, 40)}>`;
  if (ts.isExportAssignment(parent)) return '<default export>';
  return '<anonymous>';
}

function isFunctionLike(node: ts.Node): node is ts.SignatureDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

/** Measures a source text: its line count and every function's, from its first line (leading comments excluded) to its last. */
export function measureSource(file: string, text: string): SourceSize {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const functions: FunctionSize[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      functions.push({ name: functionName(node, source), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { file, lines: countLines(text), functions };
}

/** Each file over the file limit, as `path (N lines)`. */
export function oversizedFiles(sizes: readonly SourceSize[], limit = MAX_FILE_LINES): string[] {
  return sizes.filter((s) => s.lines > limit).map((s) => `${s.file} (${s.lines} lines)`);
}

/** Each function over the function limit, as `path:line name (N lines)`. */
export function oversizedFunctions(sizes: readonly SourceSize[], limit = MAX_FUNCTION_LINES): string[] {
  return sizes.flatMap((s) =>
    s.functions.filter((f) => f.lines > limit).map((f) => `${s.file}:${f.line} ${f.name} (${f.lines} lines)`),
  );
}
