/**
 * CRM sync benchmark: API calls per 1,000 messages logged through the sync worker (targets:
 * ≤ 12 HubSpot, ≤ 7 Salesforce), and the time from a consent change in the ledger to the CRM
 * write (p50/p99) with the worker's production timings. Runs against the fakes, real SDKs.
 */
import type { ContactRef } from '../../crm-plugins/types.ts';
import { getConnection } from '../../server/crm-sync/connections.ts';
import { CrmSyncWorker } from '../../server/crm-sync/sync-worker.ts';
import type { Database } from '../../server/db/database.ts';
import { recordConsent } from '../../server/stores/consent-store.ts';
import { isolateSalesforceHome } from '../crm-plugins/harnesses.ts';
import { startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg } from '../helpers/relay.ts';
import { connectAndInstall, linkContacts, phoneOf, seedHistory, testKey } from './setup.ts';

export const CRM_CALL_BUDGET = { hubspot: 12, salesforce: 7 };

const MESSAGES = 1000;
const CONTACTS = 50;
const CONSENT_SAMPLES = 20;

const quiet = () => undefined;

/** Queues MESSAGES history messages and lets the worker log them; returns the CRM calls made. */
async function callsPer1000(
  db: Database,
  orgId: string,
  crm: 'hubspot' | 'salesforce',
  worker: CrmSyncWorker,
  callCount: () => number,
): Promise<number> {
  const connection = await getConnection(db, orgId, crm);
  // The CRM-side consent poll costs a fixed few calls per interval, not per message: done first.
  await worker.drainConnection(connection.id);
  const before = callCount();
  const ids = await db.query<{ id: string }>('SELECT id FROM messages WHERE org_id = $1', [orgId]);
  await db.transaction((tx) =>
    worker.queueMessages(
      tx,
      connection,
      ids.map((m) => m.id),
    ),
  );
  for (;;) {
    await worker.drainConnection(connection.id);
    const left = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM crm_sync_jobs WHERE connection_id = $1 AND state IN ('queued', 'working')`,
      [connection.id],
    );
    if ((left[0]?.n ?? 0) === 0) return callCount() - before;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export async function runCrmBench(): Promise<{ lines: string[]; results: Record<string, number> }> {
  const restoreHome = isolateSalesforceHome();
  const results: Record<string, number> = {};
  try {
    // HubSpot: calls per 1,000 messages, then consent latency on the same connection.
    {
      const db = await freshPglite();
      const fake = await startHubSpotFake();
      try {
        const key = testKey();
        const org = await seedOrg(db);
        await connectAndInstall(db, key, {
          orgId: org.orgId,
          crm: 'hubspot',
          settings: { baseUrl: fake.baseUrl },
          secrets: { accessToken: fake.accessToken },
        });
        const contacts = Array.from({ length: CONTACTS }, (_, i) => ({
          phone: phoneOf(i),
          ref: {
            crm: 'hubspot',
            objectType: 'contact',
            id: fake.addContact({
              firstname: `C${i}`,
              lastname: 'Bench',
              phone: phoneOf(i),
              mobilephone: null,
            }),
          } satisfies ContactRef,
        }));
        await seedHistory(
          db,
          org.orgId,
          org.sender,
          await linkContacts(db, org.orgId, org.sender, contacts),
          MESSAGES,
        );
        const worker = new CrmSyncWorker({ db, secretsKey: key, lingerMs: 0, log: quiet });
        const hubspotCalls = await callsPer1000(db, org.orgId, 'hubspot', worker, () => fake.callCount());
        results.hubspotCallsPer1000 = (hubspotCalls * 1000) / fake.communications().length;

        // Consent: production timings (1 s safety poll), one change at a time.
        const live = new CrmSyncWorker({ db, secretsKey: key, log: quiet });
        await live.start();
        const latencies: number[] = [];
        try {
          for (let i = 0; i < CONSENT_SAMPLES; i++) {
            const target = contacts[i % CONTACTS] as (typeof contacts)[number];
            const kind = i % 2 === 0 ? 'opt_in' : 'opt_out';
            const started = performance.now();
            await db.transaction(async (tx) => {
              await recordConsent(tx, {
                orgId: org.orgId,
                phone: target.phone,
                kind,
                source: 'web_form',
                evidence: 'bench',
                actor: 'bench',
                at: new Date(),
              });
            });
            const want = kind === 'opt_in' ? 'opted_in' : 'opted_out';
            while (fake.contact(target.ref.id)?.properties.sms_consent_status !== want) {
              if (performance.now() - started > 30_000) throw new Error('consent never reached HubSpot');
              await new Promise((r) => setTimeout(r, 5));
            }
            latencies.push(performance.now() - started);
          }
        } finally {
          await live.stop();
        }
        results.consentToCrmP50Ms = Math.round(percentile(latencies, 50));
        results.consentToCrmP99Ms = Math.round(percentile(latencies, 99));
      } finally {
        await fake.close();
        await db.close();
      }
    }
    // Salesforce: calls per 1,000 messages.
    {
      const db = await freshPglite();
      const fake = await startSalesforceFake();
      try {
        const key = testKey();
        const org = await seedOrg(db);
        await connectAndInstall(db, key, {
          orgId: org.orgId,
          crm: 'salesforce',
          settings: { instanceUrl: fake.instanceUrl },
          secrets: { accessToken: fake.accessToken },
        });
        const contacts = Array.from({ length: CONTACTS }, (_, i) => ({
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
          MESSAGES,
        );
        const worker = new CrmSyncWorker({ db, secretsKey: key, lingerMs: 0, log: quiet });
        const salesforceCalls = await callsPer1000(db, org.orgId, 'salesforce', worker, () =>
          fake.callCount(),
        );
        results.salesforceCallsPer1000 = (salesforceCalls * 1000) / fake.records('Task').length;
      } finally {
        await fake.close();
        await db.close();
      }
    }
  } finally {
    restoreHome();
  }
  const ok = (value: number | undefined, budget: number) =>
    (value ?? Number.POSITIVE_INFINITY) <= budget ? 'ok' : 'OVER BUDGET';
  const lines = [
    'CRM sync (through the sync worker, real SDKs against the fakes)',
    `  HubSpot calls / 1,000 messages    ${String(results.hubspotCallsPer1000).padStart(8)}   budget ${CRM_CALL_BUDGET.hubspot}  ${ok(results.hubspotCallsPer1000, CRM_CALL_BUDGET.hubspot)}`,
    `  Salesforce calls / 1,000 messages ${String(results.salesforceCallsPer1000).padStart(8)}   budget ${CRM_CALL_BUDGET.salesforce}  ${ok(results.salesforceCallsPer1000, CRM_CALL_BUDGET.salesforce)}`,
    `  consent change → CRM write        p50 ${results.consentToCrmP50Ms} ms, p99 ${results.consentToCrmP99Ms} ms (${CONSENT_SAMPLES} changes)`,
  ];
  return { lines, results };
}
