import type { Queryable } from '../db/database.ts';

// The HubSpot webhook's own records: which events were taken in (so a retry or replay counts once), and the
// opt-out lookups it leaves to the sync worker.

/** HubSpot retries a failed delivery for up to a day; keys are kept a while longer than that. */
const EVENT_KEY_RETENTION = '3 days';

/** Takes an event in for a connection; false when it was already taken in (a retry or a replay). */
export async function claimHubSpotEvent(db: Queryable, connectionId: string, key: string): Promise<boolean> {
  const [claimed] = await db.query(
    `INSERT INTO hubspot_webhook_events (connection_id, event_key, received_at) VALUES ($1, $2, now())
     ON CONFLICT (connection_id, event_key) DO NOTHING RETURNING event_key`,
    [connectionId, key],
  );
  return claimed !== undefined;
}

/** Gives an event back when it could not be applied, so HubSpot's retry of it still counts. */
export async function releaseHubSpotEvent(db: Queryable, connectionId: string, key: string): Promise<void> {
  await db.query('DELETE FROM hubspot_webhook_events WHERE connection_id = $1 AND event_key = $2', [
    connectionId,
    key,
  ]);
}

/** Forgets events older than any retry HubSpot would still send. */
export async function forgetOldHubSpotEvents(db: Queryable): Promise<void> {
  await db.query(`DELETE FROM hubspot_webhook_events WHERE received_at < now() - $1::interval`, [
    EVENT_KEY_RETENTION,
  ]);
}

/** Leaves a CRM opt-out for the sync worker to look up (the relay does not know the record's numbers yet). */
export async function queueCrmOptOutLookup(
  db: Queryable,
  connection: { id: string; orgId: string },
  contactId: string,
): Promise<void> {
  await db.query(
    `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject) VALUES ($1, $2, 'crm_optout', $3)
     ON CONFLICT (connection_id, kind, subject) WHERE kind IN ('consent', 'crm_optout') AND state = 'queued'
     DO NOTHING`,
    [connection.id, connection.orgId, `contact:${contactId}`],
  );
}
