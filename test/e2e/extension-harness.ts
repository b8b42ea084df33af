import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Chrome MV3 build output that the browser tests load unpacked. */
export const CHROME_OUTPUT = join(ROOT, '.output/chrome-mv3');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

let build: Promise<void> | undefined;

/** Builds the Chrome extension once per test process (about a second), so tests load the current sources. */
export function buildChromeExtension(): Promise<void> {
  build ??= run(join(ROOT, 'node_modules/.bin/wxt'), ['build'], { cwd: ROOT, env: process.env }).then(
    () => undefined,
  );
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
