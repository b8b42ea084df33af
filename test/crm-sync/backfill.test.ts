import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactRef } from '../../crm-plugins/types.ts';
import { runBackfill } from '../../server/cli/crm-backfill.ts';
import { getConnection } from '../../server/crm-sync/connections.ts';
import { isolateSalesforceHome } from '../crm-plugins/harnesses.ts';
import { startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg } from '../helpers/relay.ts';
import {
  connectAndInstall,
  HUBSPOT_APP,
  linkContacts,
  phoneOf,
  SALESFORCE_APP,
  seedHistory,
  testKey,
  testWorker,
} from './setup.ts';

const MESSAGES = 5000;
const CONTACTS = 50;

let restoreHome: () => void = () => {};
beforeAll(() => {
  restoreHome = isolateSalesforceHome();
});
afterAll(() => restoreHome());

describe('crm backfill through the sync worker', () => {
  it(`logs ${MESSAGES} HubSpot messages exactly once each despite a 429 storm and an expired token`, async () => {
    const db = await freshPglite();
    const fake = await startHubSpotFake({ oauth: HUBSPOT_APP });
    try {
      const key = testKey();
      const org = await seedOrg(db);
      await connectAndInstall(db, key, {
        orgId: org.orgId,
        crm: 'hubspot',
        settings: { baseUrl: fake.baseUrl, clientId: HUBSPOT_APP.clientId },
        secrets: {
          accessToken: fake.accessToken,
          refreshToken: HUBSPOT_APP.refreshToken,
          clientSecret: HUBSPOT_APP.clientSecret,
        },
      });
      const contacts = Array.from({ length: CONTACTS }, (_, i) => ({
        phone: phoneOf(i),
        ref: {
          crm: 'hubspot',
          objectType: 'contact',
          id: fake.addContact({ firstname: `C${i}`, lastname: 'Test', phone: phoneOf(i), mobilephone: null }),
        } satisfies ContactRef,
      }));
      await seedHistory(
        db,
        org.orgId,
        org.sender,
        await linkContacts(db, org.orgId, org.sender, contacts),
        MESSAGES,
      );
      const { worker, logs } = testWorker(db, key);
      const progress: string[] = [];
      fake.resetCalls();
      const result = await runBackfill(db, {
        connection: await getConnection(db, org.orgId, 'hubspot'),
        secretsKey: key,
        since: null,
        worker,
        progress: (line) => {
          progress.push(line);
          if (progress.length === 1) {
            // A storm of 429s on the writes, with Retry-After: 0 (the worker's own backoff spaces them).
            fake.injectFaults(
              Array.from({ length: 6 }, () => ({
                kind: 'rate_limit' as const,
                policy: 'SECONDLY' as const,
                retryAfterSeconds: 0,
              })),
              (method, path) => method === 'POST' && path.endsWith('/batch/create'),
            );
          }
          if (progress.length === 3) fake.expireToken();
        },
      });
      expect(result).toMatchObject({ queued: MESSAGES, logged: MESSAGES, dead: 0, skipped: 0 });
      const comms = fake.communications();
      const keys = comms.map((c) => String(c.properties.sms_relay_message_id));
      expect(new Set(keys).size).toBe(MESSAGES);
      expect(comms).toHaveLength(MESSAGES);
      for (const c of contacts) {
        expect(comms.filter((m) => m.associations.includes(c.ref.id))).toHaveLength(MESSAGES / CONTACTS);
      }
      expect(fake.refreshes).toBe(1);
      expect(logs.some((l) => l.includes('throttled'))).toBe(true);
      expect(logs.some((l) => l.includes('access token refreshed'))).toBe(true);
      expect(progress.at(-1)).toContain(`${MESSAGES} messages queued`);

      // A second run is a no-op: every message is already logged, nothing is sent again.
      fake.resetCalls();
      const again = await runBackfill(db, {
        connection: await getConnection(db, org.orgId, 'hubspot'),
        secretsKey: key,
        since: null,
        worker,
      });
      expect(again.logged).toBe(MESSAGES);
      expect(fake.communications()).toHaveLength(MESSAGES);
      expect(fake.callCount((c) => c.path.endsWith('/batch/create'))).toBe(0);
    } finally {
      await fake.close();
      await db.close();
    }
  }, 60_000);

  it('logs Salesforce history once each through an expired session (refresh token) and a request-limit refusal', async () => {
    const db = await freshPglite();
    const fake = await startSalesforceFake({ oauth: SALESFORCE_APP });
    try {
      const key = testKey();
      const org = await seedOrg(db);
      await connectAndInstall(db, key, {
        orgId: org.orgId,
        crm: 'salesforce',
        settings: { instanceUrl: fake.instanceUrl, clientId: SALESFORCE_APP.clientId },
        secrets: {
          accessToken: fake.accessToken,
          refreshToken: SALESFORCE_APP.refreshToken,
          clientSecret: SALESFORCE_APP.clientSecret,
        },
      });
      const contacts = Array.from({ length: 20 }, (_, i) => ({
        phone: phoneOf(i),
        ref: {
          crm: 'salesforce',
          objectType: 'contact',
          id: fake.addRecord('Contact', { LastName: `C${i}`, Phone: phoneOf(i) }),
        } satisfies ContactRef,
      }));
      await seedHistory(
        db,
        org.orgId,
        org.sender,
        await linkContacts(db, org.orgId, org.sender, contacts),
        1000,
      );
      const { worker } = testWorker(db, key);
      fake.expireSession();
      fake.injectFaults([{ kind: 'request_limit', daily: false }], (method) => method === 'PATCH');
      const result = await runBackfill(db, {
        connection: await getConnection(db, org.orgId, 'salesforce'),
        secretsKey: key,
        since: null,
        worker,
        pageSize: 500,
      });
      expect(result).toMatchObject({ queued: 1000, logged: 1000, dead: 0 });
      const tasks = fake.records('Task');
      expect(tasks).toHaveLength(1000);
      expect(new Set(tasks.map((t) => t.SMS_Relay_Message_Id__c)).size).toBe(1000);
      expect(fake.refreshes).toBe(1);
    } finally {
      await fake.close();
      await db.close();
    }
  }, 60_000);
});
