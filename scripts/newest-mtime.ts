import fs from 'node:fs';
import path from 'node:path';

/** The newest modification time under `target` (a file or a folder, recursively); 0 when absent. */
export function newestMtime(root: string, target: string): number {
  const full = path.join(root, target);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(full))
    newest = Math.max(newest, newestMtime(root, path.join(target, entry)));
  return newest;
}
