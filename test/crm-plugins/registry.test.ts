import { describe, expect, it } from 'vitest';
import { CRM_FACTORIES, createCrmRegistry } from '../../crm-plugins/registry.ts';
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
});
