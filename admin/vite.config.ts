import path from 'node:path';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The admin console (issue #17): a Preact single-page app the relay serves at /admin
 * (server/routes/admin-console.ts). Built into .output/admin by scripts/admin-build.ts, which
 * `npm start`, `npm run build:admin` and the browser tests call.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  publicDir: false,
  plugins: [preact()],
  logLevel: 'warn',
  build: {
    outDir: path.resolve(import.meta.dirname, '..', '.output', 'admin'),
    emptyOutDir: true,
    // The relay's policy allows scripts and styles from itself only: no inline module preload.
    modulePreload: false,
    assetsInlineLimit: 0,
  },
});
