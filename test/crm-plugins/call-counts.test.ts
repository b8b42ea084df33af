import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubSpotCrm } from '../../crm-plugins/hubspot/index.ts';
import { createSalesforceCrm } from '../../crm-plugins/salesforce/index.ts';
import type { ContactRef, CrmMessage } from '../../crm-plugins/types.ts';
import { startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { isolateSalesforceHome } from './harnesses.ts';

/** Benchmark budget: API calls per 1,000 messages logged. */
const BUDGET = { hubspot: 12, salesforce: 7 };

function thousandMessages(contacts: ContactRef[]): CrmMessage[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    externalKey: `msg_${String(i).padStart(4, '0')}`,
    contact: contacts[i % contacts.length] as ContactRef,
    direction: i % 3 === 0 ? 'inbound' : 'outbound',
    body: `message ${i}`,
    occurredAt: new Date(Date.UTC(2025, 1, 1, 12, 0, 0, i * 1000)),
    customerPhone: '+14155550123',
  }));
}

let restoreHome: () => void = () => {};
beforeAll(() => {
  restoreHome = isolateSalesforceHome();
});
afterAll(() => restoreHome());

describe('API calls per 1,000 messages logged', () => {
  it(`HubSpot stays within ${BUDGET.hubspot} calls (and a retry creates nothing)`, async () => {
    const fake = await startHubSpotFake();
    try {
      const plugin = createHubSpotCrm({ accessToken: fake.accessToken, basePath: fake.baseUrl });
      await plugin.install();
      const contacts = Array.from(
        { length: 50 },
        (_, i): ContactRef => ({
          crm: 'hubspot',
          objectType: 'contact',
          id: fake.addContact({ firstname: `C${i}`, lastname: 'Test', phone: null, mobilephone: null }),
        }),
      );
      const batch = thousandMessages(contacts);
      fake.resetCalls();
      const result = await plugin.appendMessages(batch);
      expect(result.created).toHaveLength(1000);
      const calls = fake.callCount();
      expect(calls).toBeLessThanOrEqual(BUDGET.hubspot);
      expect(fake.communications()).toHaveLength(1000);
      console.info(`HubSpot: ${calls} calls for 1,000 new messages`);

      fake.resetCalls();
      const retry = await plugin.appendMessages(batch);
      expect(retry.alreadyLogged).toHaveLength(1000);
      expect(fake.communications()).toHaveLength(1000);
      console.info(`HubSpot: ${fake.callCount()} calls for a retry of the same 1,000`);
    } finally {
      await fake.close();
    }
  });

  it(`Salesforce stays within ${BUDGET.salesforce} calls (and a retry creates nothing)`, async () => {
    const fake = await startSalesforceFake();
    try {
      const plugin = createSalesforceCrm({ accessToken: fake.accessToken, instanceUrl: fake.instanceUrl });
      await plugin.install();
      const contacts = Array.from({ length: 50 }, (_, i): ContactRef => {
        const lead = i % 5 === 0;
        return {
          crm: 'salesforce',
          objectType: lead ? 'lead' : 'contact',
          id: fake.addRecord(lead ? 'Lead' : 'Contact', {
            LastName: `C${i}`,
            ...(lead ? { Company: 'Acme' } : {}),
          }),
        };
      });
      const batch = thousandMessages(contacts);
      fake.resetCalls();
      const result = await plugin.appendMessages(batch);
      expect(result.created).toHaveLength(1000);
      const calls = fake.callCount();
      expect(calls).toBeLessThanOrEqual(BUDGET.salesforce);
      expect(fake.records('Task')).toHaveLength(1000);
      console.info(`Salesforce: ${calls} calls for 1,000 new messages`);

      fake.resetCalls();
      const retry = await plugin.appendMessages(batch);
      expect(retry.alreadyLogged).toHaveLength(1000);
      expect(fake.records('Task')).toHaveLength(1000);
      console.info(`Salesforce: ${fake.callCount()} calls for a retry of the same 1,000`);
    } finally {
      await fake.close();
    }
  });
});
