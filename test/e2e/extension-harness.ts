import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Chrome MV3 development build that the browser tests load unpacked: a development build, because
 * they drive the relay's sandbox CRM on loopback, which production builds leave out (#13, finding 12).
 */
export const CHROME_OUTPUT = join(ROOT, '.output/chrome-mv3-dev');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

let build: Promise<void> | undefined;

/** Builds the Chrome extension once per test process (about a second), so tests load the current sources. */
export function buildChromeExtension(): Promise<void> {
  build ??= run(join(ROOT, 'node_modules/.bin/wxt'), ['build', '--mode', 'development'], {
    cwd: ROOT,
    env: process.env,
  }).then(() => undefined);
  return build;
}

/** A throwaway self-signed certificate (any host name: the browser is told to ignore certificate errors). */
export async function selfSignedCert(): Promise<{ key: Buffer; cert: Buffer; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-texting-cert-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '1',
    '-subj',
    '/CN=app.hubspot.com',
    '-addext',
    'subjectAltName=DNS:app.hubspot.com,DNS:app-eu1.hubspot.com,DNS:acme.lightning.force.com',
  ]);
  const [key, cert] = await Promise.all([readFile(keyPath), readFile(certPath)]);
  return { key, cert, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Launch arguments for headless Chromium with the unpacked extension and CRM host names mapped to a local port. */
export function chromiumArgs(extensionPath: string, httpsPort: number): string[] {
  const hosts = ['app.hubspot.com', 'app-eu1.hubspot.com', 'acme.lightning.force.com'];
  return [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--disable-extensions-except=${extensionPath}`,
    `--load-extension=${extensionPath}`,
    `--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1:${httpsPort}`).join(',')}`,
    '--ignore-certificate-errors',
  ];
}

/** A browser WXT builds for; Firefox builds are MV2 unless `--mv3` is given. */
export type BuildBrowser = 'chrome' | 'firefox';

/**
 * Builds the extension into a folder of its own under `outBaseDir` and returns that folder
 * (`chrome-mv3`, `firefox-mv2`). The wxt CLI has no --outDir, so this goes through WXT's `build()`
 * with an inline outDir, which wins over wxt.config.ts; .output/ stays free for concurrent builds.
 */
export async function buildExtensionInto(
  outBaseDir: string,
  browser: BuildBrowser,
  mode: 'production' | 'development' = 'production',
): Promise<string> {
  const script =
    "const { build } = await import('wxt');" +
    'await build({ root: process.argv[1], browser: process.argv[2], outDir: process.argv[3], mode: process.argv[4] });';
  try {
    await run(process.execPath, ['--input-type=module', '-e', script, ROOT, browser, outBaseDir, mode], {
      cwd: ROOT,
      // NODE_ENV=production as `wxt build` gets it: under Vitest it is "test", which builds dev JSX.
      env: { ...process.env, NODE_ENV: 'production', NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    // WXT prints the bundler's own diagnosis (file, line, reason) first; stack traces follow it.
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').replace(ANSI, '');
    throw new Error(`wxt build -b ${browser} failed:\n${stderr.slice(0, 2000)}`);
  }
  const built = (await readdir(outBaseDir, { withFileTypes: true })).filter(
    (e) => e.isDirectory() && e.name.startsWith(`${browser}-mv`),
  );
  const dir = built[0];
  if (built.length !== 1 || dir === undefined)
    throw new Error(`expected one ${browser} build in ${outBaseDir}, found ${built.map((e) => e.name)}`);
  return join(outBaseDir, dir.name);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal colour codes is the point.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

// Vite's output only: `from"./x.js"`, `import"./x.js"`, `import("./x.js")` (any quote style).
const RELATIVE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'`](\.{1,2}\/[^"'`]+)["'`]/g;
// Fonts and images a style sheet pulls in; data: URLs are inline and cost nothing extra to fetch.
const CSS_URL = /url\(\s*["']?(?!data:)([^"')\s]+)["']?\s*\)/g;
const HTML_REFERENCE = /<(script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["'][^>]*>/gi;

/** Every `<script src>` and `<link href>` of an HTML page, as written. */
export function htmlReferences(html: string): Array<{ tag: 'script' | 'link'; url: string }> {
  return [...html.matchAll(HTML_REFERENCE)].map((m) => ({
    tag: (m[1] ?? '').toLowerCase() === 'script' ? 'script' : 'link',
    url: m[2] ?? '',
  }));
}

/** Whether a URL in a built page points outside the extension (a scheme, or protocol-relative). */
export function isRemoteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:|^\/\//i.test(url);
}

/**
 * The files an extension page loads, relative to the build folder: its scripts, style sheets and
 * preloads, then every chunk those scripts import and every file those style sheets use,
 * transitively. Remote URLs are returned as written (see isRemoteUrl); files that were not built
 * are listed but not followed, so a caller can report them.
 */
export async function pageFiles(buildDir: string, page: string): Promise<string[]> {
  const files = new Set<string>();
  const queue: string[] = [];
  const add = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    if (file.endsWith('.js') || file.endsWith('.css')) queue.push(file);
  };
  const html = await readFile(join(buildDir, page), 'utf8');
  for (const { url } of htmlReferences(html)) {
    if (isRemoteUrl(url)) files.add(url);
    else add(posix.normalize(url.startsWith('/') ? url.slice(1) : posix.join(posix.dirname(page), url)));
  }
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const code = await readFile(join(buildDir, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const references = file.endsWith('.css') ? CSS_URL : RELATIVE_IMPORT;
    for (const m of code.matchAll(references)) {
      const url = (m[1] ?? '').split(/[?#]/)[0] ?? '';
      if (isRemoteUrl(url)) files.add(url);
      else if (url !== '')
        add(posix.normalize(url.startsWith('/') ? url.slice(1) : posix.join(posix.dirname(file), url)));
    }
  }
  return [...files];
}
