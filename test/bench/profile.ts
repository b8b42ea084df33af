import fs from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/** One function's share of the sampled CPU time of the relay's thread. */
export interface HotFunction {
  name: string;
  /** file:line, relative to the repository (or node_modules/<package>/...). */
  location: string;
  selfMs: number;
  /** Share of all samples, idle included, in percent. */
  selfPercent: number;
}

export interface CpuProfileSummary {
  sampledMs: number;
  samples: number;
  /** Share of samples the thread was idle (waiting for I/O), in percent. */
  idlePercent: number;
  gcPercent: number;
  top: HotFunction[];
  /** Self time per package or source directory, the largest first. */
  modules: { module: string; selfPercent: number }[];
  /** Where the whole profile was written (open it in Chrome DevTools or VS Code), if it was. */
  file: string | null;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

function location(url: string, line: number): string {
  if (url === '') return '(native)';
  let file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) file = file.slice(nm + 1);
  else if (path.isAbsolute(file)) file = path.relative(process.cwd(), file);
  // tsx serves TypeScript transpiled without line mapping here, so a .ts line would mislead.
  return file.endsWith('.ts') ? file : `${file}:${line + 1}`;
}

/**
 * Samples this thread's CPU (the V8 inspector's sampling profiler, as `--cpu-prof` does) while
 * `work` runs and sums self time per function. Only this thread is sampled: with the load
 * generator in its worker thread that is the relay alone.
 */
export async function profileThisThread(
  work: () => Promise<void>,
  options: { top?: number; intervalUs?: number; writeTo?: string } = {},
): Promise<CpuProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: options.intervalUs ?? 250 });
    await session.post('Profiler.start');
    const begun = performance.now();
    let failure: unknown = null;
    try {
      await work();
    } catch (error) {
      failure = error;
    }
    // Stopped even when the work failed, so the profiler never stays on.
    const sampledMs = performance.now() - begun;
    const { profile } = await session.post('Profiler.stop');
    await session.post('Profiler.disable');
    if (failure !== null) throw failure;
    let file: string | null = null;
    if (options.writeTo !== undefined) {
      await fs.mkdir(path.dirname(options.writeTo), { recursive: true });
      await fs.writeFile(options.writeTo, JSON.stringify(profile));
      file = path.relative(process.cwd(), options.writeTo);
    }
    return { ...summarize(profile.nodes as ProfileNode[], sampledMs, options.top ?? 12), file };
  } finally {
    session.disconnect();
  }
}

function summarize(
  nodes: readonly ProfileNode[],
  sampledMs: number,
  top: number,
): Omit<CpuProfileSummary, 'file'> {
  const byFunction = new Map<string, { name: string; location: string; hits: number }>();
  const byModule = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += hits;
    if (functionName === '(garbage collector)') gc += hits;
    const name = functionName === '' ? '(anonymous)' : functionName;
    const where = location(url, lineNumber);
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, location: where, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
    if (functionName !== '(idle)') {
      const module = moduleOf(where);
      byModule.set(module, (byModule.get(module) ?? 0) + hits);
    }
  }
  const share = (hits: number) => (total > 0 ? (hits / total) * 100 : 0);
  const ranked = [...byFunction.values()]
    .filter((f) => f.name !== '(idle)')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((f) => ({
      name: f.name,
      location: f.location,
      selfMs: total > 0 ? (f.hits / total) * sampledMs : 0,
      selfPercent: share(f.hits),
    }));
  const modules = [...byModule]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([module, hits]) => ({ module, selfPercent: share(hits) }));
  return { sampledMs, samples: total, idlePercent: share(idle), gcPercent: share(gc), top: ranked, modules };
}

/** Where a function's self time is charged: a package, a directory of ours, node's own, or native. */
function moduleOf(location: string): string {
  if (location === '(native)') return '(native: syscalls, GC, compiled code)';
  if (location.startsWith('node:')) return 'node internals';
  if (location.startsWith('node_modules/')) {
    const parts = location.slice('node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  if (location.startsWith('wasm://')) return 'wasm (PGlite)';
  const dir = path.dirname(location.replace(/:\d+$/, ''));
  return dir === '.' ? location : dir;
}
