import { describe, expect, it } from 'vitest';
import { CrmIdSchema } from '../../contract/contact-ref.ts';
import { CRM_IDS } from '../../crm-plugins/types.ts';

describe('the wire contract', () => {
  it('names exactly the CRMs the plugin registry knows, so a new plugin cannot be refused on the wire', () => {
    expect(CrmIdSchema.anyOf.map((literal) => literal.const)).toEqual([...CRM_IDS]);
  });
});
