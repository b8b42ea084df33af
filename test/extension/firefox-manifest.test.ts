// @vitest-environment node

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostMatches } from '../../extension/hosts/registry.ts';
import {
  type BuildBrowser,
  buildExtensionInto,
  htmlReferences,
  isRemoteUrl,
  pageFiles,
} from '../e2e/extension-harness.ts';

// What a store reviewer checks by hand, checked on every run against fresh builds of both targets:
// where the extension runs, that every file the manifest names was built, and that no code can come
// from the network. The builds go to a temporary folder, not .output/, so parallel builds don't race.

/** The real CRMs' pages; the content script must run on these and nowhere else but the sandbox CRM. */
const CRM_MATCHES = [
  'https://app.hubspot.com/*',
  'https://app-eu1.hubspot.com/*',
  'https://*.lightning.force.com/*',
];
/** The relay's sandbox CRM: loopback hosts, any port, only under /sandbox/crm/. */
const SANDBOX_MATCH = /^http:\/\/(?:127\.0\.0\.1|localhost)\/sandbox\/crm\/\*$/;
/** What an extension page may run: its own files, and WebAssembly compiled from them. */
const SCRIPT_SOURCES = new Set(["'self'", "'wasm-unsafe-eval'", "'none'"]);
const SCRIPT_DIRECTIVES = ['script-src', 'script-src-elem', 'script-src-attr', 'worker-src'];
/** Code that runs strings or fetches scripts: needs 'unsafe-eval' or remote code, which stores refuse. */
const RUNTIME_CODE: Array<[string, RegExp]> = [
  ['eval', /(?<![.\w$])eval\s*\(/],
  ['new Function', /\bnew\s+Function\s*\(/],
  ['remote import()', /\bimport\s*\(\s*["'`](?:https?:)?\/\//],
  ['remote importScripts()', /\bimportScripts\s*\(\s*["'`](?:https?:)?\/\//],
  ['remote <script src>', /<script[^>]+src=\\?["'](?:https?:)?\/\//i],
];
const RELATIVE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'`](\.{1,2}\/[^"'`]+)["'`]/g;
/** An add-on ID Firefox accepts: an email-like string or a GUID in braces, at most 80 characters. */
const GECKO_ID =
  /^(?:[A-Za-z0-9._-]*@[A-Za-z0-9._-]+|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\})$/;
/** Firefox's data-collection categories (browser_specific_settings.gecko.data_collection_permissions). */
const DATA_TYPES = new Set([
  'authenticationInfo',
  'bookmarksInfo',
  'browsingActivity',
  'financialAndPaymentInfo',
  'healthInfo',
  'locationInfo',
  'personalCommunications',
  'personallyIdentifyingInfo',
  'searchTerms',
  'websiteActivity',
  'websiteContent',
]);

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const record = (value: unknown): Json => (isRecord(value) ? value : {});
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
const optional = (value: unknown): string[] => (typeof value === 'string' ? [value] : []);
const icons = (value: unknown): string[] => [
  ...optional(value),
  ...Object.values(record(value)).flatMap(optional),
];

/** Every file the manifest names, relative to the build folder (globs in web_accessible_resources kept). */
function referencedFiles(manifest: Json): string[] {
  const background = record(manifest.background);
  const files = [
    ...strings(background.scripts),
    ...optional(background.service_worker),
    ...optional(background.page),
    ...(Array.isArray(manifest.content_scripts) ? manifest.content_scripts : []).flatMap((cs) => [
      ...strings(record(cs).js),
      ...strings(record(cs).css),
    ]),
    ...optional(record(manifest.options_ui).page),
    ...optional(manifest.options_page),
    ...optional(manifest.devtools_page),
    ...optional(record(manifest.sidebar_action).default_panel),
    ...optional(record(manifest.side_panel).default_path),
    ...Object.values(record(manifest.chrome_url_overrides)).flatMap(optional),
    ...icons(manifest.icons),
    ...['action', 'browser_action', 'page_action'].flatMap((key) => {
      const action = record(manifest[key]);
      return [...icons(action.default_icon), ...optional(action.default_popup)];
    }),
    ...(Array.isArray(manifest.web_accessible_resources) ? manifest.web_accessible_resources : []).flatMap(
      (entry) => (typeof entry === 'string' ? [entry] : strings(record(entry).resources)),
    ),
  ];
  return files.map((f) => f.replace(/^\//, ''));
}

/** A CSP string as directive → sources. */
function parseCsp(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** Why a policy could let code in from elsewhere, or run strings as code; empty when it can't. */
function cspProblems(policy: string): string[] {
  const csp = parseCsp(policy);
  const problems: string[] = [];
  const scriptSrc = csp.get('script-src') ?? csp.get('default-src');
  if (scriptSrc === undefined) problems.push('no script-src (nor default-src)');
  for (const directive of SCRIPT_DIRECTIVES) {
    const sources = csp.get(directive) ?? (directive === 'script-src' ? scriptSrc : undefined);
    for (const source of sources ?? [])
      if (!SCRIPT_SOURCES.has(source)) problems.push(`${directive} allows ${source}`);
  }
  for (const source of csp.get('object-src') ?? [])
    if (source !== "'self'" && source !== "'none'") problems.push(`object-src allows ${source}`);
  return problems;
}

/** Whether host permission `permission` grants access to every page match pattern `pattern` names. */
function covers(permission: string, pattern: string): boolean {
  const parse = (p: string) => /^([a-z*]+):\/\/([^/]+)(\/.*)$/.exec(p);
  const [, pScheme, pHost, pPath] = parse(permission) ?? [];
  const [, scheme, host, path] = parse(pattern) ?? [];
  if (!pScheme || !pHost || !pPath || !scheme || !host || !path) return false;
  const schemeOk = pScheme === scheme || (pScheme === '*' && (scheme === 'http' || scheme === 'https'));
  const hostOk = pHost === '*' || pHost === host || (pHost.startsWith('*.') && host.endsWith(pHost.slice(1)));
  const pathGlob = new RegExp(`^${pPath.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return schemeOk && hostOk && pathGlob.test(path);
}

/** scheme://host of a match pattern or CSP source, without port or path. */
function schemeHost(pattern: string): string {
  const m = /^([a-z*]+):\/\/([^/:]+)/.exec(pattern);
  return m ? `${m[1]}://${m[2]}` : pattern;
}

interface Build {
  dir: string;
  manifest: Json;
  files: string[];
}

async function loadBuild(
  outBase: string,
  browser: BuildBrowser,
  mode: 'production' | 'development' = 'production',
): Promise<Build> {
  const dir = await buildExtensionInto(outBase, browser, mode);
  const manifest: unknown = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  if (!isRecord(manifest)) throw new Error(`${browser} manifest.json is not a JSON object`);
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => posix.relative(dir.split('\\').join('/'), join(e.parentPath, e.name).split('\\').join('/')));
  return { dir, manifest, files };
}

const contentScriptMatches = (manifest: Json): string[] =>
  (Array.isArray(manifest.content_scripts) ? manifest.content_scripts : []).flatMap((cs) =>
    strings(record(cs).matches),
  );

/** The checks both targets must pass; `get` returns the build once beforeAll has made it. */
function commonChecks(get: () => Build): void {
  it('runs the content script on the CRM pages and nowhere else', () => {
    const { manifest } = get();
    const matches = contentScriptMatches(manifest);
    for (const pattern of CRM_MATCHES) expect(matches).toContain(pattern);
    // The registry is what the content script decides with: the manifest must say the same, less
    // the sandbox CRM on loopback, which only development builds carry (issue #13, finding 12).
    expect(new Set(matches)).toEqual(new Set(hostMatches.filter((m) => !SANDBOX_MATCH.test(m))));
    const everywhere = ['<all_urls>', '*://*/*', 'http://*/*', 'https://*/*'];
    for (const cs of Array.isArray(manifest.content_scripts) ? manifest.content_scripts : [])
      expect(strings(record(cs).matches).filter((m) => everywhere.includes(m))).toEqual([]);
  });

  it('contains every file the manifest names', () => {
    const { manifest, files } = get();
    const referenced = referencedFiles(manifest);
    const missing = referenced.filter((file) => {
      if (!file.includes('*')) return !files.includes(file);
      const glob = new RegExp(`^${file.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      return !files.some((f) => glob.test(f));
    });
    expect(missing).toEqual([]);
    expect(referenced).toContain('panel.html');
  });

  it('loads only its own files in its pages, with no inline or remote scripts', async () => {
    const { dir, files } = get();
    const pages = files.filter((f) => f.endsWith('.html'));
    expect(pages).toEqual(expect.arrayContaining(['panel.html', 'options.html']));
    for (const page of pages) {
      const html = await readFile(join(dir, page), 'utf8');
      const remote = htmlReferences(html).filter((r) => isRemoteUrl(r.url));
      expect(remote, `${page} loads from elsewhere`).toEqual([]);
      const inline = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].filter(
        (m) => !/\bsrc\s*=/.test(m[1] ?? '') && (m[2] ?? '').trim() !== '',
      );
      expect(inline.length, `${page} has an inline script (the extension CSP blocks it)`).toBe(0);
      const loaded = await pageFiles(dir, page);
      expect(
        loaded.filter((f) => !files.includes(f)),
        `${page} loads files that were not built`,
      ).toEqual([]);
    }
  });

  it('ships no code that fetches or evaluates code at run time', async () => {
    const { dir, files } = get();
    const scripts = files.filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const file of scripts) {
      const code = await readFile(join(dir, file), 'utf8');
      for (const [what, pattern] of RUNTIME_CODE) {
        const m = pattern.exec(code);
        if (m) problems.push(`${file}: ${what} at ${m.index}: ${code.slice(m.index, m.index + 60)}`);
      }
      for (const m of code.matchAll(RELATIVE_IMPORT)) {
        const target = posix.normalize(posix.join(posix.dirname(file), m[1] ?? ''));
        if (!files.includes(target)) problems.push(`${file}: imports ${m[1]}, which was not built`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lets only CRM pages load the panel, where the manifest version can say so', () => {
    const { manifest } = get();
    const crmOrigins = new Set(hostMatches.map(schemeHost));
    for (const entry of Array.isArray(manifest.web_accessible_resources)
      ? manifest.web_accessible_resources
      : []) {
      // MV2 lists bare paths (Firefox gives them a random per-install origin); MV3 says who may load them.
      if (typeof entry === 'string') continue;
      const matches = strings(record(entry).matches);
      expect(matches.length).toBeGreaterThan(0);
      for (const m of matches) expect(crmOrigins, m).toContain(schemeHost(m));
    }
  });
}

describe('extension manifests', { timeout: 30_000 }, () => {
  let outBase = '';
  let firefox: Build | undefined;
  let chrome: Build | undefined;

  beforeAll(async () => {
    outBase = await mkdtemp(join(tmpdir(), 'crm-texting-manifest-'));
    // One after the other: both builds regenerate the shared .wxt/ folder.
    firefox = await loadBuild(outBase, 'firefox');
    chrome = await loadBuild(outBase, 'chrome');
  }, 120_000);

  afterAll(async () => {
    if (outBase) await rm(outBase, { recursive: true, force: true });
  });

  const ff = (): Build => {
    if (!firefox) throw new Error('the Firefox build did not run');
    return firefox;
  };
  const cr = (): Build => {
    if (!chrome) throw new Error('the Chrome build did not run');
    return chrome;
  };

  describe('Firefox build (wxt build -b firefox)', () => {
    commonChecks(ff);

    it('is a Firefox manifest with a background page of scripts and the CRM host permissions', () => {
      const { manifest, dir } = ff();
      expect(dir).toMatch(/firefox-mv[23]$/);
      const version = manifest.manifest_version;
      expect([2, 3]).toContain(version);
      const background = record(manifest.background);
      // Firefox runs event pages, not service workers, in MV2 and MV3 alike.
      expect(strings(background.scripts).length).toBeGreaterThan(0);
      expect(background.service_worker).toBeUndefined();
      // MV2 has no host_permissions key: host patterns are permissions like any other.
      const hostPermissions = strings(version === 2 ? manifest.permissions : manifest.host_permissions);
      expect(hostMatches.filter((p) => !hostPermissions.some((h) => covers(h, p)))).toEqual([]);
      if (version === 2) expect(manifest.host_permissions).toBeUndefined();
    });

    it('has no content security policy weaker than the default', () => {
      const policy = ff().manifest.content_security_policy;
      // Absent means Firefox's default for extension pages: "script-src 'self'; object-src 'self';".
      if (policy === undefined) return;
      const policies =
        typeof policy === 'string' ? [policy] : Object.values(record(policy)).flatMap(optional);
      expect(policies.length).toBeGreaterThan(0);
      for (const p of policies) expect(cspProblems(p), p).toEqual([]);
    });

    it('declares an add-on ID (browser_specific_settings.gecko.id): Firefox requires one for MV3 and for signing, and recommends one for MV2', (ctx) => {
      const { manifest: m } = ff();
      const gecko = record(record(m.browser_specific_settings).gecko);
      if (gecko.id === undefined && m.manifest_version === 2)
        ctx.skip(
          'no gecko.id: MV2 runs without one (each temporary install gets a new random ID, so its storage ' +
            'does not carry over; AMO assigns one at first upload). Set it in wxt.config.ts.',
        );
      expect(typeof gecko.id).toBe('string');
      expect(String(gecko.id).length).toBeLessThanOrEqual(80);
      expect(gecko.id).toMatch(GECKO_ID);
    });

    it('declares its data collection (gecko.data_collection_permissions), which AMO requires of new add-ons since November 2025', (ctx) => {
      const gecko = record(record(ff().manifest.browser_specific_settings).gecko);
      if (gecko.data_collection_permissions === undefined)
        ctx.skip(
          'no gecko.data_collection_permissions: Firefox still installs it, but AMO refuses new ' +
            'submissions without it. Set it in wxt.config.ts.',
        );
      const permissions = record(gecko.data_collection_permissions);
      const required = strings(permissions.required);
      expect(required.length).toBeGreaterThan(0);
      if (required.includes('none')) expect(required).toEqual(['none']);
      else for (const type of required) expect(DATA_TYPES, type).toContain(type);
      for (const type of strings(permissions.optional))
        expect([...DATA_TYPES, 'technicalAndInteraction'], type).toContain(type);
    });
  });

  describe('Chrome build (wxt build)', () => {
    commonChecks(cr);

    // Issue #13, finding 12: a page on the user's own machine (any local dev server, any port)
    // could frame the panel and trick a rep into Send or "Mark opted in". The sandbox CRM on
    // loopback is for development builds only.
    it('names no loopback origin where the panel can be framed or loaded, nor runs on one', () => {
      const { manifest } = cr();
      const loopback = /^[a-z*]+:\/\/(?:127\.0\.0\.1|localhost|\[::1\])(?::[\d*]+)?(?:\/|$)/;
      const policy = String(record(manifest.content_security_policy).extension_pages);
      const ancestors = parseCsp(policy).get('frame-ancestors') ?? [];
      expect(ancestors.filter((source) => loopback.test(source))).toEqual([]);
      const reachable = (
        Array.isArray(manifest.web_accessible_resources) ? manifest.web_accessible_resources : []
      )
        .filter((entry) => typeof entry !== 'string')
        .flatMap((entry) => strings(record(entry).matches));
      expect(reachable.filter((m) => loopback.test(m))).toEqual([]);
      expect(contentScriptMatches(manifest).filter((m) => loopback.test(m))).toEqual([]);
    });

    it('is an MV3 manifest with a service worker and the CRM host permissions', () => {
      const { manifest: m, files } = cr();
      expect(m.manifest_version).toBe(3);
      const worker = record(m.background).service_worker;
      expect(typeof worker).toBe('string');
      expect(files).toContain(String(worker));
      expect(record(m.background).scripts).toBeUndefined();
      const hostPermissions = strings(m.host_permissions);
      expect(hostMatches.filter((p) => !hostPermissions.some((h) => covers(h, p)))).toEqual([]);
    });

    it('keeps a strict extension-pages CSP that only CRM pages may frame', () => {
      const csp = record(cr().manifest.content_security_policy);
      const policy = csp.extension_pages;
      expect(typeof policy).toBe('string');
      expect(cspProblems(String(policy))).toEqual([]);
      if (typeof csp.sandbox === 'string') expect(cspProblems(csp.sandbox)).toEqual([]);
      const crmOrigins = new Set(hostMatches.map(schemeHost));
      const ancestors = parseCsp(String(policy)).get('frame-ancestors') ?? [];
      expect(ancestors.length, 'frame-ancestors limits who may frame the panel').toBeGreaterThan(0);
      for (const source of ancestors)
        if (source !== "'self'" && source !== "'none'")
          expect(crmOrigins, source).toContain(schemeHost(source));
    });
  });
});

describe('development build (wxt build --mode development, npm start)', { timeout: 30_000 }, () => {
  let outBase = '';
  let dev: Build | undefined;
  beforeAll(async () => {
    outBase = await mkdtemp(join(tmpdir(), 'crm-texting-manifest-dev-'));
    dev = await loadBuild(outBase, 'chrome', 'development');
  }, 120_000);
  afterAll(async () => {
    if (outBase) await rm(outBase, { recursive: true, force: true });
  });

  it('keeps the sandbox CRM on loopback: content script, panel framing and loading', () => {
    if (!dev) throw new Error('the development build did not run');
    const { manifest } = dev;
    expect(new Set(contentScriptMatches(manifest))).toEqual(new Set(hostMatches));
    const policy = String(record(manifest.content_security_policy).extension_pages);
    expect(parseCsp(policy).get('frame-ancestors')).toEqual(
      expect.arrayContaining(['http://127.0.0.1:*', 'http://localhost:*']),
    );
    const reachable = (
      Array.isArray(manifest.web_accessible_resources) ? manifest.web_accessible_resources : []
    )
      .filter((entry) => typeof entry !== 'string')
      .flatMap((entry) => strings(record(entry).matches));
    expect(reachable).toEqual(expect.arrayContaining(['http://127.0.0.1/*', 'http://localhost/*']));
  });
});
