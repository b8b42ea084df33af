// @vitest-environment node
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hubspot } from '../../extension/hosts/hubspot.ts';
import { detectPage, hostMatches, hosts } from '../../extension/hosts/registry.ts';
import { salesforce } from '../../extension/hosts/salesforce.ts';
import { sandbox } from '../../extension/hosts/sandbox.ts';
import type { ContactRef, CrmHost } from '../../extension/hosts/types.ts';

type Row = [url: string, expected: ContactRef | null];

const hubspotRows: Row[] = [
  [
    'https://app.hubspot.com/contacts/8675309/record/0-1/51',
    { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '8675309' },
  ],
  [
    'https://app.hubspot.com/contacts/8675309/record/0-1/51/',
    { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '8675309' },
  ],
  [
    'https://app.hubspot.com/contacts/8675309/record/0-1/12345678901?eschref=%2Fcontacts%2F8675309&tab=activity',
    { crm: 'hubspot', objectType: 'contact', id: '12345678901', portalId: '8675309' },
  ],
  [
    'https://app-eu1.hubspot.com/contacts/26000001/record/0-1/701#activity',
    { crm: 'hubspot', objectType: 'contact', id: '701', portalId: '26000001' },
  ],
  [
    'https://app.hubspot.com/contacts/8675309/contact/4242',
    { crm: 'hubspot', objectType: 'contact', id: '4242', portalId: '8675309' },
  ],
  [
    'https://app-eu1.hubspot.com/contacts/26000001/contact/4242/',
    { crm: 'hubspot', objectType: 'contact', id: '4242', portalId: '26000001' },
  ],
  ['https://app.hubspot.com/contacts/8675309/objects/0-1/views/all/list', null],
  ['https://app.hubspot.com/contacts/8675309/record/0-2/51', null], // a company
  ['https://app.hubspot.com/contacts/8675309/record/0-3/51', null], // a deal
  ['https://app.hubspot.com/contacts/8675309/record/0-1/51/edit', null],
  ['https://app.hubspot.com/reports-dashboard/8675309/view/1', null],
  ['https://app.hubspot.com/contacts/8675309/record/0-1/abc', null],
  ['http://app.hubspot.com/contacts/8675309/record/0-1/51', null],
  ['https://app.hubspot.com.evil.example/contacts/8675309/record/0-1/51', null],
  ['https://app-na2.hubspot.com/contacts/8675309/record/0-1/51', null],
];

const salesforceRows: Row[] = [
  [
    'https://acme.lightning.force.com/lightning/r/Contact/0035g00000ABCdeAAB/view',
    { crm: 'salesforce', objectType: 'contact', id: '0035g00000ABCdeAAB' },
  ],
  [
    'https://acme.lightning.force.com/lightning/r/Contact/0035g00000ABCde/view',
    { crm: 'salesforce', objectType: 'contact', id: '0035g00000ABCde' },
  ],
  [
    'https://acme.lightning.force.com/lightning/r/Lead/00Q5g00000XyZ12EAB/view?0.source=alohaHeader',
    { crm: 'salesforce', objectType: 'lead', id: '00Q5g00000XyZ12EAB' },
  ],
  [
    'https://acme--dev.sandbox.lightning.force.com/lightning/r/Contact/0031x00000QQQqqAAA/view/',
    { crm: 'salesforce', objectType: 'contact', id: '0031x00000QQQqqAAA' },
  ],
  [
    'https://acme-dev-ed.develop.lightning.force.com/lightning/r/Lead/00Q1x00000LLLllEAA/view',
    { crm: 'salesforce', objectType: 'lead', id: '00Q1x00000LLLllEAA' },
  ],
  ['https://acme.lightning.force.com/lightning/r/Account/0015g00000ABCdeAAB/view', null],
  ['https://acme.lightning.force.com/lightning/r/Contact/0035g00000ABCdeAAB/related/Cases/view', null],
  ['https://acme.lightning.force.com/lightning/o/Contact/list?filterName=Recent', null],
  ['https://acme.lightning.force.com/lightning/page/home', null],
  ['https://acme.lightning.force.com/lightning/r/Contact/not-an-id/view', null],
  ['https://acme.my.salesforce.com/lightning/r/Contact/0035g00000ABCdeAAB/view', null],
  ['https://lightning.force.com.evil.example/lightning/r/Contact/0035g00000ABCdeAAB/view', null],
];

const sandboxRows: Row[] = [
  ['http://127.0.0.1:8787/sandbox/crm/contacts/c_1', { crm: 'sandbox', objectType: 'contact', id: 'c_1' }],
  [
    'http://localhost:3000/sandbox/crm/contacts/42/?from=list',
    { crm: 'sandbox', objectType: 'contact', id: '42' },
  ],
  [
    'http://127.0.0.1/sandbox/crm/contacts/ada-lovelace',
    { crm: 'sandbox', objectType: 'contact', id: 'ada-lovelace' },
  ],
  ['http://127.0.0.1:8787/sandbox/crm/contacts', null],
  ['http://127.0.0.1:8787/sandbox/crm/contacts/', null],
  ['http://127.0.0.1:8787/sandbox/phone', null],
  ['http://127.0.0.1:8787/admin/contacts/1', null],
  ['http://example.com/sandbox/crm/contacts/1', null],
  ['https://127.0.0.1:8787/sandbox/crm/contacts/1', null],
];

function table(host: CrmHost, rows: Row[]): void {
  describe(`${host.id} host`, () => {
    it.each(rows)('parses %s', (url, expected) => {
      expect(host.parse(new URL(url))).toEqual(expected);
      // The registry agrees with the host that owns the URL.
      const page = detectPage(new URL(url));
      if (expected) expect(page).toEqual({ kind: 'contact', ref: expected });
      else expect(page.kind).not.toBe('contact');
    });
  });
}

table(hubspot, hubspotRows);
table(salesforce, salesforceRows);
table(sandbox, sandboxRows);

describe('page detection', () => {
  it('shows "contact not detected" for a record-shaped URL it cannot read', () => {
    expect(detectPage(new URL('https://app.hubspot.com/contacts/1/record/0-1/abc')).kind).toBe('undetected');
    expect(detectPage(new URL('https://acme.lightning.force.com/lightning/r/Lead/short/view')).kind).toBe(
      'undetected',
    );
    expect(detectPage(new URL('http://127.0.0.1:8787/sandbox/crm/contacts/a/b')).kind).toBe('undetected');
  });

  it('removes the panel on CRM pages that are not records', () => {
    expect(detectPage(new URL('https://app.hubspot.com/contacts/1/objects/0-1/views/all/list')).kind).toBe(
      'none',
    );
    expect(detectPage(new URL('https://acme.lightning.force.com/lightning/page/home')).kind).toBe('none');
  });
});

describe('host registry', () => {
  it('registers every host file in extension/hosts', () => {
    const dir = fileURLToPath(new URL('../../extension/hosts/', import.meta.url));
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && f !== 'registry.ts' && f !== 'types.ts')
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(hosts.map((h) => h.id).sort()).toEqual(files);
  });

  it('runs the content script on every host pattern', () => {
    expect(hostMatches).toEqual(hosts.flatMap((h) => h.matches));
    for (const pattern of hostMatches) expect(pattern).toMatch(/^(https?):\/\/[^/]+\/.*\*$/);
  });
});
