import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../server/main.ts';
import { buildAdminIfStale } from './admin-build.ts';
import { newestMtime } from './newest-mtime.ts';

const root = path.resolve(import.meta.dirname, '..');
// Development builds: they carry the sandbox CRM on loopback, which production builds leave out
// (issue #13, finding 12); `wxt build` names their folders <browser>-mv3-dev.
const TARGETS = [
  { browser: 'chrome', name: 'Chrome', outDir: path.join(root, '.output', 'chrome-mv3-dev') },
  { browser: 'firefox', name: 'Firefox', outDir: path.join(root, '.output', 'firefox-mv3-dev') },
] as const;
// Everything the extension builds are made from; a newer file means a build is stale.
const SOURCES = ['extension', 'wxt.config.ts', 'server/compliance', 'package-lock.json'];

function buildExtensionIfStale(target: (typeof TARGETS)[number], newest: number): void {
  const manifest = path.join(target.outDir, 'manifest.json');
  const built = fs.existsSync(manifest) ? fs.statSync(manifest).mtimeMs : 0;
  if (built >= newest) return;
  console.log(
    built === 0
      ? `Building the ${target.name} extension…`
      : `Extension sources changed; rebuilding the ${target.name} extension…`,
  );
  const result = spawnSync(
    path.join(root, 'node_modules', '.bin', 'wxt'),
    ['build', '-b', target.browser, '--mode', 'development'],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    console.error(`The ${target.name} extension build failed (see above); the relay starts anyway.`);
  }
}

const [major] = process.versions.node.split('.').map(Number);
if ((major ?? 0) < 22) {
  console.error(
    `Node ${process.versions.node} is too old: this project needs Node 22 or newer (see README).`,
  );
  process.exit(1);
}
const newest = Math.max(...SOURCES.map((s) => newestMtime(root, s)));
for (const target of TARGETS) buildExtensionIfStale(target, newest);
try {
  if (await buildAdminIfStale()) console.log('Built the admin console.');
} catch (error) {
  console.error(
    `The admin console build failed (${String(error)}); the relay starts anyway, /admin says how to build it.`,
  );
}
await main({ chrome: TARGETS[0].outDir, firefox: TARGETS[1].outDir });
