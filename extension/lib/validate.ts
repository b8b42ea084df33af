/** Minimal boundary validation: each reader either returns a typed value or throws `ShapeError` naming the path. */

export class ShapeError extends Error {
  constructor(path: string, expected: string) {
    super(`${path}: expected ${expected}`);
    this.name = 'ShapeError';
  }
}

export type Obj = Record<string, unknown>;

/** Whether a value is a plain object (not null, not an array); for parsers that answer null instead of throwing. */
export function isRecord(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ShapeError(path, 'an object');
  return value as Obj;
}

export function str(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ShapeError(path, 'a string');
  return value;
}

export function strOrNull(value: unknown, path: string): string | null {
  return value === null || value === undefined ? null : str(value, path);
}

export function num(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ShapeError(path, 'a number');
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ShapeError(path, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function arr<T>(value: unknown, path: string, item: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(value)) throw new ShapeError(path, 'an array');
  return value.map((v, i) => item(v, `${path}[${i}]`));
}
