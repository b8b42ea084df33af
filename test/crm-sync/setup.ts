import { randomBytes } from 'node:crypto';
import type { ContactRef } from '../../crm-plugins/types.ts';
import {
  type ConnectionSecrets,
  type ConnectionSettings,
  type CrmConnection,
  connectCrm,
  createPlugin,
} from '../../server/crm-sync/connections.ts';
import { CrmSyncWorker, type CrmSyncWorkerOptions } from '../../server/crm-sync/sync-worker.ts';
import { type SecretsKey, secretsKey } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { newId } from '../../server/ids.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';

export const HUBSPOT_APP = {
  clientId: 'hs-client-1',
  clientSecret: 'hs-secret-shh',
  refreshToken: 'hs-refresh-1',
};
export const SALESFORCE_APP = {
  clientId: 'sf-client-1',
  clientSecret: 'sf-secret-shh',
  refreshToken: 'sf-refresh-1',
};

export function testKey(): SecretsKey {
  return secretsKey(randomBytes(32));
}

/** A connection to a fake, with its CRM schema installed. */
export async function connectAndInstall(
  db: Database,
  key: SecretsKey,
  input: {
    orgId: string;
    crm: 'hubspot' | 'salesforce';
    settings: ConnectionSettings;
    secrets: ConnectionSecrets;
  },
): Promise<CrmConnection> {
  const connection = await connectCrm(db, key, { ...input, by: { actor: 'cli', at: new Date() } });
  await createPlugin(connection, input.secrets).install();
  return connection;
}

/** A sync worker with test-sized timings (the production defaults are seconds). */
export function testWorker(db: Database, key: SecretsKey, overrides: Partial<CrmSyncWorkerOptions> = {}) {
  const logs: string[] = [];
  const worker = new CrmSyncWorker({
    db,
    secretsKey: key,
    lingerMs: 0,
    pollMs: 50,
    retryBaseMs: 20,
    minRateLimitWaitMs: 20,
    consentPollMs: 100,
    log: (level, message) => logs.push(`${level}: ${message}`),
    ...overrides,
  });
  return { worker, logs };
}

/** Relay-side contact rows tied to CRM records, one conversation each; returns the conversation ids. */
export async function linkContacts(
  db: Database,
  orgId: string,
  sender: string,
  contacts: { phone: string; ref: ContactRef }[],
): Promise<string[]> {
  const [number] = await db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE e164 = $1', [sender]);
  if (number === undefined) throw new Error('sender missing');
  const conversations: string[] = [];
  for (const c of contacts) {
    const contactId = newId();
    await db.query(
      `INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id) VALUES ($1, $2, $3, $4, $5, $6)`,
      [contactId, orgId, phoneToken(db, c.phone), c.ref.crm, c.ref.objectType, c.ref.id],
    );
    const conversationId = newId();
    await db.query(
      `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id) VALUES ($1, $2, $3, $4, $5)`,
      [conversationId, orgId, number.id, phoneToken(db, c.phone), contactId],
    );
    conversations.push(conversationId);
  }
  return conversations;
}

/** `count` delivered outbound messages spread over the conversations (history for a backfill). */
export async function seedHistory(
  db: Database,
  orgId: string,
  sender: string,
  conversations: string[],
  count: number,
): Promise<void> {
  await db.query(
    `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments, encoding, created_at)
     SELECT gen_random_uuid(), $1, c.id, 'outbound', $2, c.contact_phone, 'History message #' || i, 'delivered', 1, 'GSM-7',
            now() - interval '10 days' + i * interval '1 second'
       FROM generate_series(1, $3::int) AS i
       JOIN (SELECT id, contact_phone, row_number() OVER (ORDER BY id) - 1 AS n FROM conversations WHERE id = ANY($4::uuid[])) c
         ON c.n = i % $5`,
    [orgId, sender, count, conversations, conversations.length],
  );
}

export function phoneOf(i: number): string {
  return `+1312555${String(1000 + i).slice(-4)}`;
}

export async function until<T>(
  check: () => Promise<T | undefined | false | null>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
