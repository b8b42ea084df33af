import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One import edge: the file that imports, and the specifier resolved to a repo path or left as a package name. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** A broken boundary, phrased so the failing test names the file, the import and the rule. */
export interface BoundaryViolation {
  rule: string;
  from: string;
  to: string;
}

// Type-only imports count too: a type import still couples the layers the rule keeps apart.
const importPattern =
  /(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

const sourceExtensions = ['.ts', '.tsx'];

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return listSources(path);
    return sourceExtensions.some((ext) => name.endsWith(ext)) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveRelative(root: string, fromFile: string, specifier: string): string {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [
    base,
    ...sourceExtensions.map((ext) => base.replace(/\.js$/, '') + ext),
    ...sourceExtensions.map((ext) => join(base, `index${ext}`)),
  ];
  const hit = candidates.find((path) => existsSync(path) && statSync(path).isFile());
  return relative(root, hit ?? base);
}

/** Reads every import edge of the source folders under root. */
export function readImportGraph(root: string, folders: string[]): ImportEdge[] {
  return folders.flatMap((folder) =>
    listSources(join(root, folder)).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const from = relative(root, file);
      return [...text.matchAll(importPattern)].map((match) => {
        const specifier = match[1] ?? match[2] ?? '';
        const to = specifier.startsWith('.') ? resolveRelative(root, file, specifier) : specifier;
        return { from, to };
      });
    }),
  );
}

const vendorSdkHomes: Record<string, string> = {
  plivo: 'server/providers/plivo.ts',
  '@hubspot/api-client': 'crm-plugins/hubspot/client.ts',
  '@salesforce/core': 'crm-plugins/salesforce/client.ts',
  '@jsforce/jsforce-node': 'crm-plugins/salesforce/client.ts',
  nodemailer: 'server/mail/smtp.ts',
  stripe: 'server/payments/stripe.ts',
};

const databaseOrHttp =
  /^(server\/db\/|server\/http\/|fastify$|fastify\/|@fastify\/|pg$|@electric-sql\/pglite|node:http$|http$)/;
// The local store (Dexie) and the auth modules (tokens) each live in one folder of extension/lib.
const belowHttp = /^server\/(providers|stores|workers|sending-check|inbound|live)\//;
const tokenStores = /^(extension\/lib\/store\/|extension\/lib\/auth\/|dexie$)/;

function isPackage(to: string, name: string): boolean {
  return to === name || to.startsWith(`${name}/`);
}

function reachableFrom(start: string, edges: ImportEdge[]): Map<string, string> {
  // Maps each reachable file to the file that first imported it, so a violation can name the importer.
  const byFile = new Map<string, string[]>();
  for (const edge of edges) byFile.set(edge.from, [...(byFile.get(edge.from) ?? []), edge.to]);
  const seen = new Map<string, string>([[start, start]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const to of byFile.get(file) ?? []) {
      if (!seen.has(to)) {
        seen.set(to, file);
        queue.push(to);
      }
    }
  }
  return seen;
}

/** Finds import cycles among files whose path starts with one of the prefixes; each cycle reported once. */
export function findCycles(edges: ImportEdge[], prefixes: string[]): string[][] {
  const inScope = (file: string) => prefixes.some((prefix) => file.startsWith(prefix));
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    if (inScope(edge.from) && inScope(edge.to))
      next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  }
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') {
        const cycle = stack.slice(stack.indexOf(to));
        cycles.set([...cycle].sort().join(' '), cycle);
      } else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...next.keys()].sort()) if (!state.has(file)) visit(file);
  return [...cycles.values()];
}

/** Applies the house's layer rules (STYLE.md conventions 4 and 5) to an import graph. */
export function checkBoundaries(edges: ImportEdge[]): BoundaryViolation[] {
  const violations: BoundaryViolation[] = [];
  for (const { from, to } of edges) {
    if (from.startsWith('server/compliance/') && databaseOrHttp.test(to)) {
      violations.push({ rule: 'compliance rules stay pure: no database or HTTP', from, to });
    }
    if (belowHttp.test(from) && to.startsWith('server/http/')) {
      violations.push({
        rule: 'providers, stores, workers, the sending check, inbound and live events never import the HTTP layer above them',
        from,
        to,
      });
    }
    if (from.startsWith('contract/') && !to.startsWith('contract/') && !isPackage(to, 'typebox')) {
      violations.push({ rule: 'the wire contract imports only typebox and itself', from, to });
    }
    if (from.startsWith('crm-plugins/') && to.startsWith('server/')) {
      violations.push({ rule: 'crm-plugins never import server', from, to });
    }
    for (const [sdk, home] of Object.entries(vendorSdkHomes)) {
      if (isPackage(to, sdk) && from !== home) {
        violations.push({ rule: `vendor SDK ${sdk} is imported only by ${home}`, from, to });
      }
    }
  }
  const contentScripts = [...new Set(edges.map((edge) => edge.from))].filter((file) =>
    /^extension\/entrypoints\/[^/]+\.content\.tsx?$/.test(file),
  );
  for (const entry of contentScripts) {
    for (const [file, importer] of reachableFrom(entry, edges)) {
      if (tokenStores.test(file)) {
        violations.push({
          rule: `content script ${entry} never reaches tokens or Dexie`,
          from: importer,
          to: file,
        });
      }
    }
  }
  for (const [file, importer] of reachableFrom('server/config.ts', edges)) {
    if (file.startsWith('server/db/')) {
      violations.push({
        rule: 'config.ts stays pure: it never reaches the database',
        from: importer,
        to: file,
      });
    }
  }
  return violations;
}

/** Renders a violation as the one line a failing build shows. */
export function describeViolation(violation: BoundaryViolation): string {
  return `${violation.from} imports ${violation.to}: breaks "${violation.rule}"`;
}
