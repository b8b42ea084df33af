import { satisfies } from './version-range.ts';

/** One known vulnerability: which package, which versions, and where to read about it. */
export interface Advisory {
  package: string;
  /** npm range syntax (the subset scripts/lib/version-range.ts reads). */
  vulnerable: string;
  id: string;
  summary: string;
}

/** A package as installed: its real name (an alias's target, not the alias) and where. */
export interface InstalledPackage {
  name: string;
  version: string;
  path: string;
  dev: boolean;
}

export interface Finding {
  advisory: Advisory;
  installed: InstalledPackage;
}

interface LockEntry {
  name?: unknown;
  version?: unknown;
  dev?: unknown;
  link?: unknown;
}

/** Every package a lockfile (lockfileVersion 2 or 3) installs, from its `packages` map. */
export function installedPackages(lock: unknown): InstalledPackage[] {
  const packages = (lock as { packages?: unknown } | null)?.packages;
  if (typeof packages !== 'object' || packages === null)
    throw new Error('package-lock.json has no "packages" map (lockfileVersion 2 or later is needed)');
  const found: InstalledPackage[] = [];
  for (const [path, raw] of Object.entries(packages as Record<string, LockEntry>)) {
    if (path === '' || raw.link === true || typeof raw.version !== 'string') continue;
    // An override such as "request": "npm:@cypress/request@4" installs under the alias's folder
    // with the real name in "name": the advisory is about what is installed, not its folder.
    const folder = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const name = typeof raw.name === 'string' ? raw.name : folder;
    found.push({ name, version: raw.version, path, dev: raw.dev === true });
  }
  return found;
}

/** The installed packages that an advisory covers. */
export function matchAdvisories(installed: InstalledPackage[], advisories: Advisory[]): Finding[] {
  const byName = new Map<string, Advisory[]>();
  for (const advisory of advisories)
    byName.set(advisory.package, [...(byName.get(advisory.package) ?? []), advisory]);
  return installed.flatMap((pkg) =>
    (byName.get(pkg.name) ?? [])
      .filter((advisory) => satisfies(pkg.version, advisory.vulnerable))
      .map((advisory) => ({ advisory, installed: pkg })),
  );
}

/** Checks the list's own shape, so a malformed entry stops the check instead of matching nothing. */
export function parseAdvisories(value: unknown): Advisory[] {
  const list = (value as { advisories?: unknown } | null)?.advisories;
  if (!Array.isArray(list)) throw new Error('the advisory list has no "advisories" array');
  return list.map((entry: unknown, index) => {
    const a = entry as Partial<Record<keyof Advisory, unknown>>;
    for (const field of ['package', 'vulnerable', 'id', 'summary'] as const) {
      if (typeof a[field] !== 'string' || a[field] === '')
        throw new Error(`advisory ${index} has no "${field}"`);
    }
    // A range outside the supported subset throws here, once, rather than at the first match.
    satisfies('0.0.0', a.vulnerable as string);
    return a as Advisory;
  });
}
