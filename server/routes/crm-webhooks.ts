import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  CONNECTION_COLUMNS,
  type ConnectionRow,
  type CrmConnection,
  openSecrets,
  toConnection,
} from '../crm-sync/connections.ts';
import { knownPhonesOf, recordCrmOptOut } from '../crm-sync/crm-optout.ts';
import { resolveSecretsKey, type SecretsKey } from '../crypto/secrets.ts';
import { ApiError } from '../errors.ts';
import type { Access } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

const webhook: { access: Access } = { access: { kind: 'webhook', provider: 'hubspot' } };

/** HubSpot refuses to be trusted for longer: a signed request older than this is a replay. */
export const HUBSPOT_MAX_AGE_MS = 5 * 60_000;
/** HubSpot retries a failed delivery for up to a day; keys are kept a while longer than that. */
const EVENT_KEY_RETENTION = '3 days';

/**
 * What identifies one HubSpot event across its retries and any replay: HubSpot's event id (which
 * it does not promise unique on its own) with the record and the instant it describes.
 */
function eventKey(event: HubSpotEvent): string | null {
  if (!/^\d{1,20}$/.test(String(event.eventId))) return null;
  return `${String(event.eventId)}:${String(event.objectId)}:${String(event.occurredAt)}`;
}

/** The contact property whose change to opted_out is an opt-out (crm-plugins/hubspot/mapping.ts). */
const CONSENT_PROPERTY = 'sms_consent_status';

/** HubSpot's v3 request signature: base64 HMAC-SHA256(clientSecret, method + uri + body + timestamp). */
export function signHubSpotV3(
  secret: string,
  method: string,
  uri: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', secret).update(`${method}${uri}${body}${timestamp}`, 'utf8').digest('base64');
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text !== '' ? text : null;
}

interface HubSpotEvent {
  eventId?: unknown;
  portalId?: unknown;
  objectId?: unknown;
  subscriptionType?: unknown;
  propertyName?: unknown;
  propertyValue?: unknown;
  occurredAt?: unknown;
}

/**
 * HubSpot webhooks (contact.propertyChange on the SMS consent property). The v3 signature is
 * checked on the raw body before anything is parsed; a contact set to opted_out becomes an
 * opt-out in the ledger at once when the relay knows its numbers, else the sync worker looks the
 * record up (the request never waits on HubSpot).
 */
export const hubspotWebhookRoutes: RouteModule = (app, { config, db, clock }) => {
  let key: Promise<SecretsKey | null> | null = null;
  const secretsKey = () => {
    key ??= resolveSecretsKey(db, {
      configured: config.secretsKey,
      sandbox: config.smsProvider === 'sandbox',
      readOnly: true,
    });
    // Neither a failure nor "no key yet" is kept: a sandbox key may be created later by the CLI.
    const pending = key;
    pending.then(
      (found) => {
        if (found === null && key === pending) key = null;
      },
      () => {
        if (key === pending) key = null;
      },
    );
    return pending;
  };

  /** The connections whose client secret (or HUBSPOT_CLIENT_SECRET) made this signature. */
  const signers = async (request: FastifyRequest, raw: string) => {
    const signature = header(request, 'x-hubspot-signature-v3');
    const timestamp = header(request, 'x-hubspot-request-timestamp');
    if (signature === null || timestamp === null || !/^\d{10,16}$/.test(timestamp)) return null;
    const uri = `${config.publicUrl}${request.url}`;
    const matches = (secret: string) =>
      sameSignature(signHubSpotV3(secret, 'POST', uri, raw, timestamp), signature);
    const rows = await db.query<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM crm_connections WHERE crm = 'hubspot' AND status <> 'disconnected'`,
    );
    const connections = rows.map(toConnection);
    const envMatches = config.hubspotClientSecret !== null && matches(config.hubspotClientSecret);
    const k = connections.length === 0 || envMatches ? null : await secretsKey();
    const signed = connections.filter((c) => {
      if (envMatches) return true;
      if (k === null) return false;
      try {
        const secret = openSecrets(k, c).clientSecret;
        return typeof secret === 'string' && matches(secret);
      } catch {
        return false;
      }
    });
    if (signed.length === 0 && !envMatches) return null;
    return { connections: signed, timestamp: Number(timestamp) };
  };

  /** Records one opt-out event for its connection; how many numbers it opted out. */
  const applyOptOut = async (connection: CrmConnection, event: HubSpotEvent, now: Date): Promise<number> => {
    const ref = { crm: 'hubspot' as const, objectType: 'contact' as const, id: String(event.objectId) };
    const occurredAt =
      typeof event.occurredAt === 'number' && Number.isFinite(event.occurredAt)
        ? new Date(event.occurredAt)
        : now;
    const phones = await knownPhonesOf(db, { orgId: connection.orgId, connectionId: connection.id, ref });
    if (phones.length > 0) {
      const recorded = await recordCrmOptOut(db, {
        orgId: connection.orgId,
        ref,
        phones,
        changedAt: occurredAt,
        via: 'webhook',
        now,
      });
      return recorded.length;
    }
    await db.query(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject) VALUES ($1, $2, 'crm_optout', $3)
       ON CONFLICT (connection_id, kind, subject) WHERE kind IN ('consent', 'crm_optout') AND state = 'queued'
       DO NOTHING`,
      [connection.id, connection.orgId, `contact:${ref.id}`],
    );
    return 0;
  };

  app.register(async (scope) => {
    // The signature covers the exact bytes HubSpot sent: keep them, parse after verifying.
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      done(null, body);
    });

    scope.post('/webhooks/hubspot', { config: webhook }, async (request, reply) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const verified = await signers(request, raw);
      if (verified === null)
        throw new ApiError(403, 'INVALID_SIGNATURE', 'The HubSpot signature is missing or wrong.');
      const now = clock();
      if (Math.abs(now.getTime() - verified.timestamp) > HUBSPOT_MAX_AGE_MS)
        throw new ApiError(403, 'STALE_WEBHOOK', 'The HubSpot request timestamp is more than 5 minutes off.');
      let events: unknown;
      try {
        events = JSON.parse(raw);
      } catch {
        throw new ApiError(400, 'MALFORMED_JSON', 'The webhook body is not JSON.');
      }
      if (!Array.isArray(events)) throw new ApiError(400, 'BAD_WEBHOOK', 'HubSpot sends an array of events.');
      let optOuts = 0;
      let duplicates = 0;
      let ignored = 0;
      for (const event of events as HubSpotEvent[]) {
        if (
          typeof event !== 'object' ||
          event === null ||
          event.subscriptionType !== 'contact.propertyChange' ||
          event.propertyName !== CONSENT_PROPERTY ||
          event.propertyValue !== 'opted_out' ||
          !/^\d{1,20}$/.test(String(event.objectId))
        )
          continue;
        const portal = String(event.portalId ?? '');
        // Only the connection of the event's own portal: one app (one signing secret) can be
        // installed in many portals, so a lone connection is no proof the event is its portal's.
        const connection = verified.connections.find((c) => c.settings.portalId === portal);
        const key = eventKey(event);
        if (connection === undefined || key === null) {
          ignored += 1;
          request.log.warn(
            { portal, eventId: String(event.eventId ?? '') },
            connection === undefined
              ? `HubSpot webhook event for portal ${portal}, which no connection of this app claims (connect it with its portal id): ignored`
              : 'HubSpot webhook event without an event id: ignored',
          );
          continue;
        }
        const [claimed] = await db.query(
          `INSERT INTO hubspot_webhook_events (connection_id, event_key, received_at) VALUES ($1, $2, now())
           ON CONFLICT (connection_id, event_key) DO NOTHING RETURNING event_key`,
          [connection.id, key],
        );
        if (claimed === undefined) {
          duplicates += 1;
          continue;
        }
        try {
          optOuts += await applyOptOut(connection, event, now);
        } catch (error) {
          // Not applied, so not taken in: HubSpot's retry of this event must still count.
          await db.query('DELETE FROM hubspot_webhook_events WHERE connection_id = $1 AND event_key = $2', [
            connection.id,
            key,
          ]);
          throw error;
        }
      }
      await db.query(`DELETE FROM hubspot_webhook_events WHERE received_at < now() - $1::interval`, [
        EVENT_KEY_RETENTION,
      ]);
      return reply.code(200).send({ received: events.length, optOuts, duplicates, ignored });
    });
  });
};
