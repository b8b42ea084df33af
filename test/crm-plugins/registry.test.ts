import { describe, expect, it } from 'vitest';
import {
  CRM_FACTORIES,
  CRM_OAUTH,
  createCrmRegistry,
  OAUTH_CRMS,
  oauthOf,
} from '../../crm-plugins/registry.ts';
import { CRM_IDS } from '../../crm-plugins/types.ts';

describe('CRM registry', () => {
  it('has a factory for every CRM id, producing the plugin with that id', () => {
    expect(Object.keys(CRM_FACTORIES).sort()).toEqual([...CRM_IDS].sort());
    const registry = createCrmRegistry({
      sandbox: {},
      hubspot: { accessToken: 'pat-na1-test', basePath: 'http://127.0.0.1:9' },
      salesforce: { accessToken: '00Dxx0000000001!AQ4AQTest', instanceUrl: 'http://127.0.0.1:9' },
    });
    for (const id of CRM_IDS) expect(registry.get(id)?.id).toBe(id);
  });

  it('keeps the id-list form for plugins without credentials', async () => {
    const registry = createCrmRegistry(['sandbox']);
    expect(registry.list().map((p) => p.id)).toEqual(['sandbox']);
    expect(registry.get('hubspot')).toBeNull();
    const demo = await registry
      .get('sandbox')
      ?.findContactById({ crm: 'sandbox', objectType: 'contact', id: 'c-1001' });
    expect(demo?.name).toBe('Dana Whitfield');
    expect(createCrmRegistry([]).list()).toEqual([]);
  });

  it('reaches every OAuth CRM through the registry, and the sandbox through none', () => {
    expect(Object.keys(CRM_OAUTH).sort()).toEqual([...OAUTH_CRMS].sort());
    expect(oauthOf('sandbox')).toBeNull();
    const app = {
      clientId: 'app-1',
      clientSecret: 's',
      authorizeBase: 'https://login.example',
      tokenBase: 'https://login.example',
    };
    for (const crm of OAUTH_CRMS) {
      const url = new URL(
        CRM_OAUTH[crm].authorizeUrl(app, { redirectUri: 'https://relay.example/cb', state: 'st-1' }),
      );
      expect(url.searchParams.get('state')).toBe('st-1');
      expect(url.searchParams.get('client_id')).toBe('app-1');
      expect(
        CRM_OAUTH[crm].tokenUrl({ loginUrl: 'https://login.example', baseUrl: 'https://login.example' }),
      ).toMatch(/^https:\/\/login\.example\/.+token$/);
    }
  });
});
