/**
 * How one environment variable is read: trimmed, defaulted when unset, validated, and reported as a
 * ConfigError naming the variable. config.ts composes these into the relay's Config.
 */

/** A configuration problem, reported as one line naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** The environment a Config is read from (process.env, or a test's own). */
export type Env = Record<string, string | undefined>;

/** The variable's trimmed value, or undefined when it is unset or blank. */
export function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `raw` as a URL with one of `protocols` (e.g. 'https:'), or a ConfigError naming `name`. */
export function parseUrl(name: string, raw: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      name,
      `must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${raw}"`,
    );
  }
  return url;
}

/** One of the `allowed` words, or `fallback` when unset; `hint` is added to the error. */
export function oneOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  hint = '',
): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"${hint}`);
  }
  return raw as T;
}

/** A positive rate (messages per second unless `unit` says otherwise), or `fallback` when unset. */
export function rate(env: Env, name: string, fallback: number, unit = 'messages per second'): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 100_000) {
    throw new ConfigError(name, `must be a number of ${unit} above 0 (at most 100000), got "${raw}"`);
  }
  return value;
}

/** A whole number of milliseconds within [min, max], or `fallback` when unset. */
export function millis(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number of milliseconds from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}
