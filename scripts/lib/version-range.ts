/**
 * The subset of npm's semver ranges an advisory list needs: comparators (`<`, `<=`, `>`, `>=`,
 * `=` or a bare version) joined by spaces (all must hold) and `||` (any set may hold), and `*`.
 * Written here rather than importing `semver`, which the project has only as a transitive
 * dependency. Unlike npm's satisfies(), a prerelease is compared like any other version: for a
 * vulnerability check, 4.0.4-beta.1 is below 4.0.4 and so still vulnerable.
 */

interface Version {
  numbers: [number, number, number];
  prerelease: (number | string)[];
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(text: string): Version | null {
  const m = VERSION.exec(text.trim());
  if (m === null) return null;
  return {
    numbers: [Number(m[1]), Number(m[2]), Number(m[3])],
    prerelease: m[4] === undefined ? [] : m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)),
  };
}

/** Semver precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i += 1) {
    const d = (a.numbers[i] ?? 0) - (b.numbers[i] ?? 0);
    if (d !== 0) return d;
  }
  // A release ranks above its prereleases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0)
    return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i += 1) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    // Numeric identifiers rank below alphanumeric ones.
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';

const COMPARATOR = /^(<=|>=|<|>|=)?\s*(\S+)$/;

function holds(op: Operator, order: number): boolean {
  switch (op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
  }
}

/** Throws on a range outside the subset, so a typo in the advisory list fails loudly, never silently. */
export function satisfies(versionText: string, range: string): boolean {
  const version = parseVersion(versionText);
  if (version === null) return false;
  return range.split('||').some((set) => {
    const parts = set
      .trim()
      .replace(/(<=|>=|<|>|=)\s+/g, '$1')
      .split(/\s+/);
    return parts.every((part) => {
      if (part === '*' || part === '') return true;
      const m = COMPARATOR.exec(part);
      const bound = m === null ? null : parseVersion(m[2] ?? '');
      if (m === null || bound === null) throw new Error(`unsupported version range "${range}"`);
      return holds((m[1] ?? '=') as Operator, compareVersions(version, bound));
    });
  });
}
