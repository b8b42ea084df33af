import fs from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { newestMtime } from './newest-mtime.ts';

const root = path.resolve(import.meta.dirname, '..');
/** Where the relay serves the admin console from (Config.adminDir's default). */
export const ADMIN_OUT_DIR = path.join(root, '.output', 'admin');
// Everything the console is made from; a newer file means the build is stale.
const SOURCES = ['admin', 'contract', 'package-lock.json'];

/** Whether the console's build is missing or older than its sources. */
export function adminBuildIsStale(outDir = ADMIN_OUT_DIR): boolean {
  const index = path.join(outDir, 'index.html');
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  return built < Math.max(...SOURCES.map((s) => newestMtime(root, s)));
}

/**
 * Builds the admin console into `outDir` when it is stale. It is built into a sibling folder and
 * renamed into place, so a relay (or a second test process) never serves a half-written build.
 */
export async function buildAdminIfStale(outDir = ADMIN_OUT_DIR, force = false): Promise<boolean> {
  if (!force && !adminBuildIsStale(outDir)) return false;
  const staging = `${outDir}.building-${process.pid}`;
  await build({
    configFile: path.join(root, 'admin', 'vite.config.ts'),
    build: { outDir: staging, emptyOutDir: true },
  });
  const old = `${outDir}.old-${process.pid}`;
  if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
  fs.renameSync(staging, outDir);
  fs.rmSync(old, { recursive: true, force: true });
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await buildAdminIfStale(ADMIN_OUT_DIR, process.argv.includes('--force'));
  console.log(built ? `Built the admin console into ${ADMIN_OUT_DIR}` : 'The admin console is up to date.');
}
