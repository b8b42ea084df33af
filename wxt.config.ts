import preact from '@preact/preset-vite';
import { defineConfig } from 'wxt';
import { hostMatches } from './extension/hosts/registry.ts';

/**
 * The relay's sandbox CRM runs on loopback. Only a development build (`wxt`, `wxt build --mode
 * development`, `npm start`) may run on, be framed by or be loaded from loopback pages: in a
 * production build any local page (a dev server on any port) could frame the panel and trick a rep
 * into Send or "Mark opted in" (issue #13, finding 12).
 */
const LOOPBACK = /^[a-z*]+:\/\/(?:127\.0\.0\.1|localhost)(?::[\d*]+)?(?:\/|$)/;
const allowedIn = (mode: string) => (pattern: string) => mode !== 'production' || !LOOPBACK.test(pattern);

// web_accessible_resources only compares origins (Chrome rejects a path other than /*), so the CRM
// host patterns are reduced to their origins for the panel page.
const crmOrigins = [
  ...new Set(hostMatches.map((p) => `${p.slice(0, p.indexOf('/', p.indexOf('://') + 3))}/*`)),
];
/** Who may frame the panel (Chrome's frame-ancestors); the sandbox CRM on any loopback port. */
const FRAME_ANCESTORS = [
  'https://app.hubspot.com',
  'https://app-eu1.hubspot.com',
  'https://*.lightning.force.com',
  'http://127.0.0.1:*',
  'http://localhost:*',
];

// Sources live under extension/; publicDir and modulesDir resolve from the root, not srcDir
// (see ../shared/reference/toolchain-notes.md).
export default defineConfig({
  srcDir: 'extension',
  entrypointsDir: 'entrypoints',
  publicDir: 'extension/public',
  modulesDir: 'extension/modules',
  outDir: '.output',
  // MV3 for Firefox too: its MV2 has no storage.session, where the tokens live (issue #21).
  manifestVersion: 3,
  imports: false,
  zip: {
    // What Firefox's add-on store rebuilds the package from (`npm ci && npm run build`): the
    // extension, the relay code it shares (the wire contract, the compliance rules) and the build
    // configuration; never tests, the server, local settings or secrets.
    includeSources: [
      'extension/**',
      'contract/**',
      'server/compliance/**',
      'wxt.config.ts',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'README.md',
    ],
  },
  vite: () => ({
    plugins: [preact()],
  }),
  hooks: {
    // Content-script matches come from the registry (extension/hosts); the sandbox CRM's loopback
    // ones are dropped from a production build here, where the mode is known.
    'build:manifestGenerated': (wxt, manifest) => {
      const allowed = allowedIn(wxt.config.mode);
      manifest.content_scripts = manifest.content_scripts
        ?.map((script) => ({ ...script, matches: script.matches?.filter(allowed) }))
        .filter((script) => (script.matches?.length ?? 0) > 0);
    },
    // IndexedDB (Dexie) belongs to the background and the options page. In the HTML pages' build
    // (the only one that splits code) it gets a chunk of its own, which keeps it out of what the
    // panel loads: the bundler would otherwise share it with the panel's thread code.
    'vite:build:extendConfig': (entrypoints, viteConfig) => {
      if (!entrypoints.some((e) => e.type === 'options' || e.name === 'panel')) return;
      viteConfig.build ??= {};
      viteConfig.build.rollupOptions ??= {};
      viteConfig.build.rollupOptions.output = {
        ...(viteConfig.build.rollupOptions.output as object | undefined),
        manualChunks: (id: string) => (id.includes('/node_modules/dexie/') ? 'dexie' : undefined),
      };
    },
  },
  manifest: ({ browser, mode }) => ({
    name: 'CRM Texting',
    description: 'Compliant texting side panel for HubSpot and Salesforce contact pages',
    permissions: ['storage', 'notifications', 'alarms'],
    host_permissions: [
      'https://app.hubspot.com/*',
      'https://app-eu1.hubspot.com/*',
      'https://*.lightning.force.com/*',
      'http://127.0.0.1/*',
      'http://localhost/*',
    ],
    // A relay other than the local default is granted at runtime, from the options page.
    optional_host_permissions: ['https://*/*', 'http://*/*'],
    // IT can set (and so lock) the relay URL by enterprise policy; Firefox reads its policies without one.
    ...(browser === 'firefox' ? {} : { storage: { managed_schema: 'managed-schema.json' } }),
    // The panel is framed into CRM pages; only its HTML needs to be reachable from them.
    web_accessible_resources: [{ resources: ['panel.html'], matches: crmOrigins.filter(allowedIn(mode)) }],
    content_security_policy: {
      extension_pages: `script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors ${FRAME_ANCESTORS.filter(allowedIn(mode)).join(' ')}`,
    },
    // Firefox needs an add-on id (signing, storage) and, on AMO, a declaration of the data the
    // extension sends: contact details and texts to the customer's own relay, and sign-in tokens.
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: {
              id: 'crm-texting@h-seed-8882232d.example',
              strict_min_version: '140.0',
              data_collection_permissions: {
                required: ['personallyIdentifyingInfo', 'personalCommunications', 'authenticationInfo'],
              },
            },
            gecko_android: { strict_min_version: '142.0' },
          },
        }
      : {}),
  }),
});
